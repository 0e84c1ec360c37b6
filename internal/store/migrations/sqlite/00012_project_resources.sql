-- +goose Up
-- A project's own resources, set by its owner within the administrator's
-- ceilings; NULL takes the platform's default. CPU in thousandths of a core.
CREATE TABLE project_resources (
    project_id   TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    memory_bytes BIGINT,
    cpu_millis   INTEGER,
    pids         INTEGER,
    disk_bytes   BIGINT,
    updated_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE project_resources;
