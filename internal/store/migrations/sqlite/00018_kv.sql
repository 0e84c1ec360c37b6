-- +goose Up
-- Each project's key-value store (Replit Database compatible), per
-- environment: values are opaque text, size is the bytes of key and value.
CREATE TABLE kv_entries (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    env        TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    size       BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, env, key)
);

-- +goose Down
DROP TABLE kv_entries;
