-- +goose Up
-- The credit ledger (internal/ledger): double entry in integer micro-credits.
-- Transfers are append-only: a hold is a 'pending' row for ever, and its
-- settlement is a second row ('posted' or 'voided') whose pending_id names
-- it; the unique index below lets a hold be settled once. Non-settlements
-- have pending_id ''. ledger_balances keeps each account's sums, updated in
-- the transaction of every transfer, so a balance is one row.
CREATE TABLE ledger_transfers (
    id             TEXT PRIMARY KEY,
    idem_key       TEXT NOT NULL UNIQUE,
    debit_account  TEXT NOT NULL,
    credit_account TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided')),
    pending_id     TEXT NOT NULL DEFAULT '',
    expires_at     BIGINT NOT NULL DEFAULT 0,
    memo           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    CHECK (debit_account <> credit_account)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, id);
CREATE UNIQUE INDEX ledger_transfers_settlement ON ledger_transfers (pending_id) WHERE pending_id <> '';

CREATE TABLE ledger_balances (
    account         TEXT PRIMARY KEY,
    debits_posted   BIGINT NOT NULL DEFAULT 0,
    credits_posted  BIGINT NOT NULL DEFAULT 0,
    debits_pending  BIGINT NOT NULL DEFAULT 0,
    credits_pending BIGINT NOT NULL DEFAULT 0
);

-- The holds with an expiry not yet settled: what ExpireHolds looks at, so
-- that it never scans settled history. A row goes with its settlement.
CREATE TABLE ledger_holds (
    pending_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ledger_holds_due ON ledger_holds (expires_at);

-- +goose Down
DROP TABLE ledger_holds;
DROP TABLE ledger_balances;
DROP TABLE ledger_transfers;
