-- +goose Up
-- Alert rules of a project's deployment (see internal/alert): a
-- threshold, an SLO burn rate or an anomaly on one metric, and where to
-- tell (channels, JSON: inApp, webhookUrl, emails); project_url is the
-- project's page when the rule was last saved, the link notifications give.
CREATE TABLE alert_rules (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    metric         TEXT NOT NULL,
    op             TEXT NOT NULL,
    threshold      DOUBLE PRECISION NOT NULL,
    window_minutes INTEGER NOT NULL,
    slo            DOUBLE PRECISION NOT NULL,
    channels       TEXT NOT NULL,
    project_url    TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id, created_at);

-- Alerts: a rule's condition held from started_at until resolved_at. At
-- most one is firing per rule; the index makes a second open a conflict,
-- so evaluators that overlap (a restart) cannot open twins.
CREATE TABLE alerts (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    rule_id        TEXT NOT NULL,
    rule_name      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    metric         TEXT NOT NULL,
    status         TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    resolved_at    BIGINT,
    value          DOUBLE PRECISION NOT NULL,
    threshold      DOUBLE PRECISION,
    message        TEXT NOT NULL,
    silenced_until BIGINT,
    resolved_by    TEXT
);
CREATE UNIQUE INDEX alerts_firing ON alerts (rule_id) WHERE status = 'firing';
CREATE INDEX alerts_project ON alerts (project_id, started_at);

-- The signing secret of a project's alert webhooks, sealed.
CREATE TABLE alert_webhook_secrets (
    project_id TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- In-app notifications, one row per person told (see internal/notify).
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- +goose Down
DROP TABLE notifications;
DROP TABLE alert_webhook_secrets;
DROP TABLE alerts;
DROP TABLE alert_rules;
