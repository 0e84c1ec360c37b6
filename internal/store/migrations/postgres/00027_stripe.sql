-- +goose Up
-- Stripe's side of billing (package stripebill). Times are unix ms.
-- One Stripe customer per payer ("user:<id>" or "team:<id>"), made on the
-- payer's first checkout.
CREATE TABLE stripe_customers (
    payer       TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- Webhook events, one row per event id: a claim while its effect runs
-- (claim, claimed_at), processed_at once it took effect. A replay finds the
-- row and does nothing; a failed effect deletes its claim so Stripe's retry
-- runs it again. created is the event's own time.
CREATE TABLE stripe_events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    created      BIGINT NOT NULL,
    claim        TEXT NOT NULL,
    claimed_at   BIGINT NOT NULL,
    processed_at BIGINT
);

-- The subscription state last applied per payer, with the time of the event
-- that set it (event_at): an older event arriving later changes nothing.
CREATE TABLE stripe_subscriptions (
    payer           TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    status          TEXT NOT NULL,
    plan            TEXT NOT NULL,
    event_at        BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Meter events sent to Stripe, one per customer and finished hour
-- (identifier "<customer>:credits:<hour unix>"); value in micro-credits.
CREATE TABLE stripe_meter_reports (
    identifier  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    value       BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL
);
CREATE INDEX stripe_meter_reports_customer ON stripe_meter_reports (customer_id, hour);

-- +goose Down
DROP TABLE stripe_meter_reports;
DROP TABLE stripe_subscriptions;
DROP TABLE stripe_events;
DROP TABLE stripe_customers;
