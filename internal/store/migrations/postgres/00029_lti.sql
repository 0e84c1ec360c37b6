-- +goose Up
-- LMS platforms registered by administrators; deployment_ids is a JSON array.
CREATE TABLE lti_platforms (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    deployment_ids TEXT NOT NULL,
    auth_login_url TEXT NOT NULL,
    auth_token_url TEXT NOT NULL,
    jwks_url       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (issuer, client_id)
);

-- The tool's signing keys (RSA, PEM sealed with the keyring); the newest
-- signs, the one before it stays published so LMSs holding it still verify.
CREATE TABLE lti_keys (
    kid         TEXT PRIMARY KEY,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- OIDC login states: single use, short-lived; the nonce is bound to one state.
CREATE TABLE lti_states (
    state       TEXT PRIMARY KEY,
    nonce       TEXT NOT NULL UNIQUE,
    platform_id TEXT NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0
);

-- The account each LMS person (platform, sub) launches as.
CREATE TABLE lti_users (
    platform_id TEXT NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    sub         TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (platform_id, sub)
);
CREATE INDEX lti_users_user ON lti_users (user_id);

-- The LMS course (context) a course mirrors, and its roster service.
CREATE TABLE lti_contexts (
    course_id        TEXT PRIMARY KEY,
    platform_id      TEXT NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    context_id       TEXT NOT NULL,
    deployment_id    TEXT NOT NULL,
    memberships_url  TEXT NOT NULL DEFAULT '',
    last_roster_sync BIGINT NOT NULL DEFAULT 0,
    UNIQUE (platform_id, context_id)
);

-- Members a roster sync enrolled (only those may a sync remove again).
CREATE TABLE lti_synced_members (
    course_id TEXT NOT NULL REFERENCES lti_contexts (course_id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    PRIMARY KEY (course_id, user_id)
);

-- AGS endpoints per resource link; scopes is a JSON array.
CREATE TABLE lti_links (
    course_id        TEXT NOT NULL REFERENCES lti_contexts (course_id) ON DELETE CASCADE,
    resource_link_id TEXT NOT NULL,
    assignment_id    TEXT NOT NULL,
    title            TEXT NOT NULL,
    lineitem_url     TEXT NOT NULL,
    lineitems_url    TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (course_id, resource_link_id)
);
CREATE INDEX lti_links_assignment ON lti_links (course_id, assignment_id);

-- Deep-linking requests waiting for a teacher's pick: one use, 30 minutes.
CREATE TABLE lti_deep_links (
    token         TEXT PRIMARY KEY,
    platform_id   TEXT NOT NULL REFERENCES lti_platforms (id) ON DELETE CASCADE,
    course_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    return_url    TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    used_at       BIGINT NOT NULL DEFAULT 0
);

-- A submission's score on its way to the LMS.
CREATE TABLE lti_passbacks (
    submission_id    TEXT PRIMARY KEY,
    course_id        TEXT NOT NULL REFERENCES lti_contexts (course_id) ON DELETE CASCADE,
    resource_link_id TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    lms_user_id      TEXT NOT NULL,
    score_given      DOUBLE PRECISION NOT NULL,
    score_maximum    DOUBLE PRECISION NOT NULL,
    comment          TEXT NOT NULL,
    graded_at        BIGINT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    sent_at          BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX lti_passbacks_course ON lti_passbacks (course_id, updated_at);

-- +goose Down
DROP TABLE lti_passbacks;
DROP TABLE lti_deep_links;
DROP TABLE lti_links;
DROP TABLE lti_synced_members;
DROP TABLE lti_contexts;
DROP TABLE lti_users;
DROP TABLE lti_states;
DROP TABLE lti_keys;
DROP TABLE lti_platforms;
