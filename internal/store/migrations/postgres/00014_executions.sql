-- +goose Up
-- Each run of a scheduled deployment's command, on its schedule or asked
-- for: how it ended and its output, bounded. A tick that came while the
-- previous run was still going is kept as skipped.
CREATE TABLE executions (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    release_id  TEXT REFERENCES releases (id) ON DELETE SET NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    exit_code   INTEGER,
    error       TEXT NOT NULL DEFAULT '',
    log         TEXT NOT NULL DEFAULT '',
    started_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX executions_project ON executions (project_id, started_at);

-- +goose Down
DROP TABLE executions;
