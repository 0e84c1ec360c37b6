-- +goose Up
-- A team is an account beside people's: it shares their namespace, so its
-- projects live at /@team/slug, and it owns projects as a person does. It
-- has no password, email or sessions of its own.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'user';

CREATE TABLE teams (
    id           TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    allowlist    TEXT NOT NULL DEFAULT '[]', -- JSON array of CIDRs; empty: any address
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- Invite links; only the SHA-256 of the secret is kept.
CREATE TABLE team_invites (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX team_invites_team ON team_invites (team_id);

-- Secrets every project of the team gets; a project's own of the same
-- name wins.
CREATE TABLE team_secrets (
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, name)
);

-- The team an audit entry belongs to, for the team's own view of the log.
ALTER TABLE audit_log ADD COLUMN team TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_team ON audit_log (team, seq);

-- +goose Down
DROP INDEX audit_log_team;
ALTER TABLE audit_log DROP COLUMN team;
DROP TABLE team_secrets;
DROP TABLE team_invites;
DROP TABLE team_members;
DROP TABLE teams;
ALTER TABLE users DROP COLUMN kind;
