-- +goose Up
-- A checkpoint's data: what the database, key-value store and object
-- storage of one project environment held when the checkpoint was made
-- (see internal/snapshot). The parts live with their owners: db_backup
-- names a database backup (NULL: there was no database), the key-value
-- entries and object rows are kept under this id. No foreign key to
-- projects: a deleted project's snapshots are dropped part by part (the
-- object rows name no project), then their rows.
CREATE TABLE data_snapshots (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL,
    env          TEXT NOT NULL,
    commit_hash  TEXT NOT NULL,
    db_backup    TEXT,
    kv_keys      BIGINT NOT NULL,
    object_count BIGINT NOT NULL,
    object_bytes BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX data_snapshots_commit ON data_snapshots (project_id, commit_hash, created_at);
CREATE INDEX data_snapshots_project ON data_snapshots (project_id, env, created_at);

-- +goose Down
DROP TABLE data_snapshots;
