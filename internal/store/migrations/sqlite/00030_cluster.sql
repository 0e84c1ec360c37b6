-- +goose Up
-- The servers sharing this database, each with the last time it was seen;
-- one unseen for longer than the lease is dead.
CREATE TABLE servers (
    id         TEXT PRIMARY KEY,
    peer_url   TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);

-- Which server holds a project's live state (collaboration documents,
-- sandbox, previews, app instances); requests for it go there.
CREATE TABLE project_holders (
    project_id TEXT PRIMARY KEY,
    server_id  TEXT NOT NULL,
    since      BIGINT NOT NULL
);
CREATE INDEX project_holders_server ON project_holders (server_id);

-- +goose Down
DROP TABLE project_holders;
DROP TABLE servers;
