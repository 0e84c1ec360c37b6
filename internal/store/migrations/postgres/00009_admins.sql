-- +goose Up
-- Platform administrators: the first account, and those an operator names
-- with `ecode admin grant-admin`.
ALTER TABLE users ADD COLUMN is_admin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET is_admin = TRUE WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);

-- +goose Down
ALTER TABLE users DROP COLUMN is_admin;
