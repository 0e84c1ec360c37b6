-- +goose Up
-- Courses and their people. lti_platform_id and lti_context_id name the
-- LMS course a course mirrors ('' when none; unique together when set).
CREATE TABLE courses (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    owner_id        TEXT NOT NULL,
    join_code       TEXT NOT NULL UNIQUE,
    lti_platform_id TEXT NOT NULL DEFAULT '',
    lti_context_id  TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX courses_lti ON courses (lti_platform_id, lti_context_id) WHERE lti_platform_id <> '';
CREATE INDEX courses_owner ON courses (owner_id);

CREATE TABLE course_members (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    role      TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX course_members_user ON course_members (user_id);

-- tests, cases, rubric, late_policy and limits are JSON; hidden tests and
-- cases live here only, never in the starter project.
CREATE TABLE assignments (
    id                 TEXT PRIMARY KEY,
    course_id          TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    title              TEXT NOT NULL,
    instructions       TEXT NOT NULL DEFAULT '',
    starter_project_id TEXT NOT NULL DEFAULT '',
    runner             TEXT NOT NULL,
    command            TEXT NOT NULL DEFAULT '',
    tests              TEXT NOT NULL DEFAULT '[]',
    cases              TEXT NOT NULL DEFAULT '[]',
    rubric             TEXT NOT NULL DEFAULT '[]',
    points             DOUBLE PRECISION NOT NULL,
    due_at             BIGINT,
    late_policy        TEXT NOT NULL DEFAULT '{}',
    max_submissions    BIGINT NOT NULL DEFAULT 0,
    limits             TEXT NOT NULL DEFAULT '{}',
    published          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX assignments_course ON assignments (course_id, created_at);
CREATE INDEX assignments_starter ON assignments (starter_project_id);

-- Each student's own copy of an assignment's starter.
CREATE TABLE assignment_copies (
    assignment_id TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    project_id    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (assignment_id, user_id)
);

-- gradings counts the times a submission was queued for grading (a
-- regrade adds one): the job's arguments carry it, so a regrade is a new
-- unique job and a stale one is ignored.
CREATE TABLE submissions (
    id              TEXT PRIMARY KEY,
    assignment_id   TEXT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    course_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    number          BIGINT NOT NULL,
    commit_id       TEXT NOT NULL,
    status          TEXT NOT NULL,
    gradings        BIGINT NOT NULL DEFAULT 1,
    submitted_at    BIGINT NOT NULL,
    graded_at       BIGINT,
    late            BOOLEAN NOT NULL DEFAULT FALSE,
    days_late       BIGINT NOT NULL DEFAULT 0,
    penalty_percent DOUBLE PRECISION NOT NULL DEFAULT 0,
    auto_score      DOUBLE PRECISION,
    auto_max        DOUBLE PRECISION NOT NULL,
    rubric          TEXT NOT NULL DEFAULT '[]',
    feedback        TEXT NOT NULL DEFAULT '',
    score           DOUBLE PRECISION,
    max_score       DOUBLE PRECISION NOT NULL,
    result          TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    UNIQUE (assignment_id, user_id, number)
);
CREATE INDEX submissions_course ON submissions (course_id, user_id);
CREATE INDEX submissions_status ON submissions (status);

-- +goose Down
DROP TABLE submissions;
DROP TABLE assignment_copies;
DROP TABLE assignments;
DROP TABLE course_members;
DROP TABLE courses;
