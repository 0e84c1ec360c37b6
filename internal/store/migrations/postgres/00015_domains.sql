-- +goose Up
-- A project's custom domains. A name is held by one project at a time; it
-- serves the project's live deployment once verified_at is set, after the
-- platform fetched the token from the name over the network.
CREATE TABLE domains (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL UNIQUE,
    token       TEXT NOT NULL,
    verified_at BIGINT,
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX domains_project ON domains (project_id);

-- +goose Down
DROP TABLE domains;
