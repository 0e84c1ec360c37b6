-- +goose Up
-- Accounts made through a provider have no password (''); a disabled
-- account's sessions end and it cannot log in.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
-- Require a security key after the password.
ALTER TABLE users ADD COLUMN require_key BOOLEAN NOT NULL DEFAULT FALSE;

-- What a person sees of each of their sessions; the session itself is in
-- sessions (scs), keyed by the same token.
CREATE TABLE session_info (
    token      TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX session_info_user ON session_info (user_id);

-- Accounts at OAuth providers linked to E-Code accounts.
CREATE TABLE oauth_identities (
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL DEFAULT '',
    login      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_user ON oauth_identities (user_id);

-- WebAuthn credentials (security keys and passkeys), the whole credential.
CREATE TABLE webauthn_credentials (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    credential   TEXT NOT NULL,
    sign_count   BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- +goose Down
DROP TABLE webauthn_credentials;
DROP TABLE oauth_identities;
DROP TABLE session_info;
ALTER TABLE users DROP COLUMN require_key;
ALTER TABLE users DROP COLUMN disabled_at;
