-- +goose Up
-- What GPU a project's sandbox asks for: "any", "whole" or "mig-<profile>";
-- NULL for none.
ALTER TABLE project_resources ADD COLUMN gpu TEXT;

-- +goose Down
ALTER TABLE project_resources DROP COLUMN gpu;
