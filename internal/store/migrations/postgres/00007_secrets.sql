-- +goose Up
-- A project's secrets, sealed under the master key (AES-256-GCM), given
-- to its runs and shells as environment variables.
CREATE TABLE project_secrets (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- +goose Down
DROP TABLE project_secrets;
