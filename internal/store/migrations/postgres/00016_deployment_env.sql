-- +goose Up
-- A deployment's own environment: values sealed like the project's secrets,
-- each replacing the project's secret of the same name (or added to them)
-- in builds and scheduled runs.
CREATE TABLE deployment_env (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- Where a project's failed scheduled runs and failed builds are posted,
-- signed with a secret the platform made (sealed).
CREATE TABLE deployment_webhooks (
    project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- Each event posted to a webhook: how its last try went. The newest few
-- of a project are kept.
CREATE TABLE webhook_deliveries (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    url         TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    code        INTEGER,
    error       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX webhook_deliveries_project ON webhook_deliveries (project_id, created_at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE deployment_webhooks;
DROP TABLE deployment_env;
