-- +goose Up
-- The audit log: append-only, each entry holding the hash of the one
-- before it, so an edit or a deletion anywhere breaks the chain.
CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_id   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_target ON audit_log (target, seq);

-- +goose Down
DROP TABLE audit_log;
