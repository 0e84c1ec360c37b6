-- +goose Up
-- Logins of devices without a browser (RFC 8628): the device polls with the
-- secret device code (kept as its SHA-256), the person approves the short
-- user code at /device. A row lives until its token is handed over, the
-- device hears the refusal, or it expires and is swept.
CREATE TABLE device_codes (
    id           TEXT PRIMARY KEY,
    device_hash  TEXT NOT NULL UNIQUE,
    user_code    TEXT NOT NULL UNIQUE,
    client_name  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    interval_sec INTEGER NOT NULL,
    polled_at    INTEGER,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX device_codes_expires ON device_codes (expires_at);

-- +goose Down
DROP TABLE device_codes;
