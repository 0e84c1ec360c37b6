-- +goose Up
-- One row per agent run: its prompt, what it did (steps as JSON), how it
-- ended, and the tokens it used.
CREATE TABLE agent_runs (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt      TEXT NOT NULL,
    status      TEXT NOT NULL,
    summary     TEXT NOT NULL DEFAULT '',
    features    TEXT NOT NULL DEFAULT '[]',
    error       TEXT NOT NULL DEFAULT '',
    needs_input TEXT NOT NULL DEFAULT '',
    steps       TEXT NOT NULL DEFAULT '[]',
    checkpoints TEXT NOT NULL DEFAULT '[]',
    tokens_in   BIGINT NOT NULL DEFAULT 0,
    tokens_out  BIGINT NOT NULL DEFAULT 0,
    no_progress BOOLEAN NOT NULL DEFAULT FALSE,
    model       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX agent_runs_project ON agent_runs (project_id, created_at);

-- Tokens per person per day and kind (agent, completion), for billing.
CREATE TABLE ai_usage (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    requests   BIGINT NOT NULL DEFAULT 0,
    tokens_in  BIGINT NOT NULL DEFAULT 0,
    tokens_out BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, kind)
);

-- +goose Down
DROP TABLE ai_usage;
DROP TABLE agent_runs;
