-- +goose Up
-- Monitoring (telemetry): each project's ingest key and settings; raw
-- browser events, error occurrences and their groups, kept per scope (a
-- project id, or "platform"); counters rolled up per minute and per hour.
CREATE TABLE monitoring_settings (
    project_id      TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    ingest_key      TEXT NOT NULL UNIQUE,
    inject          BOOLEAN NOT NULL DEFAULT FALSE,
    replay_sample   DOUBLE PRECISION NOT NULL DEFAULT 0.1,
    replay_on_error BOOLEAN NOT NULL DEFAULT TRUE,
    mask_text       BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at      BIGINT NOT NULL
);

-- Page views (kind "pageview") and custom events (kind "event").
CREATE TABLE telemetry_events (
    scope   TEXT NOT NULL,
    t       BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    session TEXT NOT NULL,
    url     TEXT NOT NULL,
    name    TEXT NOT NULL,
    props   TEXT NOT NULL
);
CREATE INDEX telemetry_events_scope_t ON telemetry_events (scope, t);

CREATE TABLE telemetry_errors (
    scope       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    t           BIGINT NOT NULL,
    session     TEXT NOT NULL,
    url         TEXT NOT NULL,
    message     TEXT NOT NULL,
    stack       TEXT NOT NULL,
    browser     TEXT NOT NULL
);
CREATE INDEX telemetry_errors_group ON telemetry_errors (scope, fingerprint, t);
CREATE INDEX telemetry_errors_t ON telemetry_errors (t);

-- sessions is approximate: it grows when an occurrence comes from another
-- session than the previous one.
CREATE TABLE telemetry_error_groups (
    scope        TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    name         TEXT NOT NULL,
    message      TEXT NOT NULL,
    url          TEXT NOT NULL,
    count        BIGINT NOT NULL,
    sessions     BIGINT NOT NULL,
    last_session TEXT NOT NULL,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    status       TEXT NOT NULL,
    PRIMARY KEY (scope, fingerprint)
);
CREATE INDEX telemetry_error_groups_last ON telemetry_error_groups (scope, last_seen);

CREATE TABLE telemetry_vitals (
    scope   TEXT NOT NULL,
    t       BIGINT NOT NULL,
    session TEXT NOT NULL,
    url     TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   DOUBLE PRECISION NOT NULL,
    rating  TEXT NOT NULL
);
CREATE INDEX telemetry_vitals_scope_t ON telemetry_vitals (scope, t);

-- Failed or slow fetch/XHR calls seen by the browser.
CREATE TABLE telemetry_requests (
    scope       TEXT NOT NULL,
    t           BIGINT NOT NULL,
    session     TEXT NOT NULL,
    url         TEXT NOT NULL,
    method      TEXT NOT NULL,
    target      TEXT NOT NULL,
    status      INTEGER NOT NULL,
    duration_ms DOUBLE PRECISION NOT NULL
);
CREATE INDEX telemetry_requests_scope_t ON telemetry_requests (scope, t);

-- Counters per step (grain 60000 or 3600000 ms): metric names what is
-- counted, key the route or vital ("" for the scope's total), bucket a
-- latency/value histogram bucket or a rating (0 otherwise). The key
-- includes n, so a dashboard's range is read from the index alone.
CREATE TABLE telemetry_rollups (
    scope  TEXT NOT NULL,
    grain  BIGINT NOT NULL,
    metric TEXT NOT NULL,
    t      BIGINT NOT NULL,
    key    TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (scope, grain, metric, t, key, bucket) INCLUDE (n)
);

-- +goose Down
DROP TABLE telemetry_rollups;
DROP TABLE telemetry_requests;
DROP TABLE telemetry_vitals;
DROP TABLE telemetry_error_groups;
DROP TABLE telemetry_errors;
DROP TABLE telemetry_events;
DROP TABLE monitoring_settings;
