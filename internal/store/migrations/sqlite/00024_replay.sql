-- +goose Up
-- Session replays: each chunk's gzip of rrweb events lives in the blob
-- bucket at replays/<scope>/<session>/<seq>.json.gz; these rows describe
-- the chunks and sum them per session. Times are the browser's event
-- timestamps (first_ts, last_ts) and the server's clock (received_at,
-- created_at, updated_at: what lists and retention go by). No foreign key
-- to projects: the blobs are released first (replay.DropScope), then rows.
CREATE TABLE replay_sessions (
    scope      TEXT NOT NULL,
    session    TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_at    BIGINT NOT NULL,
    chunks     BIGINT NOT NULL,
    bytes      BIGINT NOT NULL,
    url        TEXT NOT NULL,
    has_error  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, session)
);
CREATE INDEX replay_sessions_recent ON replay_sessions (scope, updated_at);
CREATE INDEX replay_sessions_retention ON replay_sessions (updated_at);

-- url is the page of the chunk's meta event ("" without one).
CREATE TABLE replay_chunks (
    scope         TEXT NOT NULL,
    session       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    first_ts      BIGINT NOT NULL,
    last_ts       BIGINT NOT NULL,
    bytes         BIGINT NOT NULL,
    full_snapshot BOOLEAN NOT NULL,
    url           TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, session, seq)
);

-- +goose Down
DROP TABLE replay_chunks;
DROP TABLE replay_sessions;
