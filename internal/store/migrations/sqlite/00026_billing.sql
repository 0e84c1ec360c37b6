-- +goose Up
-- Billing (see internal/billing). A payer ("user:<id>" or "team:<id>") has
-- an account row from its first need: its plan, its current monthly period
-- and what was put in during that period (the plan's grant, administrators'
-- grants, top-ups), which the expiry at the period's end and the budget
-- alerts read. out_since is when its available balance reached zero.
CREATE TABLE billing_accounts (
    payer           TEXT PRIMARY KEY,
    plan            TEXT NOT NULL,
    plan_changed_at BIGINT NOT NULL,
    period_start    BIGINT NOT NULL,
    period_end      BIGINT NOT NULL,
    plan_granted    BIGINT NOT NULL DEFAULT 0,
    extra_granted   BIGINT NOT NULL DEFAULT 0,
    topped_up       BIGINT NOT NULL DEFAULT 0,
    out_since       BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX billing_accounts_period_end ON billing_accounts (period_end);

-- Usage as metered, once per idempotency key; charge_id names the
-- usage_charges row that rated it (NULL until then).
CREATE TABLE usage_events (
    id         TEXT PRIMARY KEY,
    idem_key   TEXT NOT NULL UNIQUE,
    meter      TEXT NOT NULL,
    attr       TEXT NOT NULL,
    quantity   BIGINT NOT NULL,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    payer      TEXT NOT NULL,
    hold_key   TEXT NOT NULL,
    at         BIGINT NOT NULL,
    charge_id  TEXT
);
CREATE INDEX usage_events_unrated ON usage_events (id) WHERE charge_id IS NULL;
CREATE INDEX usage_events_hold ON usage_events (hold_key) WHERE charge_id IS NULL;
CREATE INDEX usage_events_payer ON usage_events (payer, at);

-- What rating charged: one row per (payer, project, person, meter, attr,
-- day) group of a pass; amount 0 for free or waived usage (transfer_id '').
-- at is when it was charged, day is the usage's own (UTC).
CREATE TABLE usage_charges (
    id          TEXT PRIMARY KEY,
    transfer_id TEXT NOT NULL,
    payer       TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    meter       TEXT NOT NULL,
    attr        TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    amount      BIGINT NOT NULL,
    day         TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX usage_charges_payer ON usage_charges (payer, at);

-- Holds of work in progress (an agent run), by the caller's key. transfer_id
-- is the ledger's pending transfer ('' when nothing was held: billing off or
-- nothing available); status pending, charged or waived.
CREATE TABLE billing_holds (
    hold_key    TEXT PRIMARY KEY,
    transfer_id TEXT NOT NULL,
    payer       TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    status      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX billing_holds_pending ON billing_holds (status, expires_at);

-- Budget alerts sent: once per payer, period and threshold.
CREATE TABLE billing_alerts (
    payer        TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    percent      INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (payer, period_start, percent)
);

-- Deployments suspended for want of credits, resumed after a top-up.
CREATE TABLE billing_suspended (
    project_id TEXT PRIMARY KEY,
    payer      TEXT NOT NULL,
    at         BIGINT NOT NULL
);

-- +goose Down
DROP TABLE billing_suspended;
DROP TABLE billing_alerts;
DROP TABLE billing_holds;
DROP TABLE usage_charges;
DROP TABLE usage_events;
DROP TABLE billing_accounts;
