-- +goose Up
-- Internet mode: the project's sandbox may reach any public host, not only
-- the package registries.
ALTER TABLE projects ADD COLUMN internet BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE projects DROP COLUMN internet;
