-- +goose Up
-- Each person's SSH key for cloning private repositories over ssh://; the
-- private half is sealed under the master key.
CREATE TABLE ssh_keys (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    public_key  TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE ssh_keys;
