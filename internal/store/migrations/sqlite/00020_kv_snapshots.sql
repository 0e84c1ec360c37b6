-- +goose Up
-- The key-value entries of a project environment as a data snapshot took
-- them (see internal/snapshot); restored by copying them back.
CREATE TABLE kv_snapshot_entries (
    snapshot_id TEXT NOT NULL,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    size        BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, key)
);

-- What each project environment's store holds, kept with every write so
-- that checking the limits does not read every entry.
CREATE TABLE kv_usage (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    env        TEXT NOT NULL,
    keys       BIGINT NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (project_id, env)
);
INSERT INTO kv_usage (project_id, env, keys, bytes)
    SELECT project_id, env, count(*), SUM(size) FROM kv_entries GROUP BY project_id, env;

-- +goose Down
DROP TABLE kv_usage;
DROP TABLE kv_snapshot_entries;
