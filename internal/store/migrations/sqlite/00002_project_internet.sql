-- +goose Up
-- Internet mode: the project's sandbox may reach any public host, not only
-- the package registries.
ALTER TABLE projects ADD COLUMN internet INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE projects DROP COLUMN internet;
