-- +goose Up
-- Each deploy of a project is a release: built from a checkpoint (its
-- commit) into an immutable folder. Its build log is kept with it, bounded.
CREATE TABLE releases (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    commit_id   TEXT NOT NULL DEFAULT '',
    target      TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    log         TEXT NOT NULL DEFAULT '',
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    UNIQUE (project_id, number)
);
CREATE INDEX releases_status ON releases (status);

-- A project's deployment: which release takes traffic, and the one before
-- it (undo). Switching is an update of this row.
CREATE TABLE deployments (
    project_id          TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    live_release_id     TEXT REFERENCES releases (id) ON DELETE SET NULL,
    previous_release_id TEXT REFERENCES releases (id) ON DELETE SET NULL,
    target              TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- +goose Down
DROP TABLE deployments;
DROP TABLE releases;
