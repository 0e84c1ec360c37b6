-- +goose Up
-- A project's PostgreSQL databases, one per environment (dev, prod): the
-- role's password sealed under the master key, its size as last measured,
-- and whether it was made read-only for being over the quota. A row outlives
-- its project until the database itself is dropped, so that none is left
-- behind unrecorded.
CREATE TABLE project_databases (
    project_id TEXT NOT NULL,
    env        TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    password   TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    size_at    BIGINT NOT NULL DEFAULT 0,
    read_only  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, env)
);

-- Dumps of a project's databases (pg_dump -Fc), kept in the data folder
-- under backups/<project>/<id>.dump.
CREATE TABLE database_backups (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    env        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    took_ms    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX database_backups_project ON database_backups (project_id, env, created_at);

-- The statements people ran in a project's SQL console, newest kept.
CREATE TABLE database_queries (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    env        TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    statement  TEXT NOT NULL,
    error      TEXT NOT NULL DEFAULT '',
    row_count  BIGINT NOT NULL DEFAULT 0,
    took_ms    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX database_queries_user ON database_queries (project_id, user_id, created_at);

-- +goose Down
DROP TABLE database_queries;
DROP TABLE database_backups;
DROP TABLE project_databases;
