-- +goose Up
-- Each project environment's object storage. Bytes live in the blob bucket
-- (ECODE_OBJECTS_URL) under immutable keys b/<id>; these rows say which
-- blob each object is. A blob is deleted only when no object row and no
-- snapshot row names it, so rows outlive their project until objstore has
-- released the blobs (no foreign key to projects).
CREATE TABLE storage_buckets (
    project_id TEXT NOT NULL,
    env        TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, env, name)
);

CREATE TABLE storage_objects (
    project_id   TEXT NOT NULL,
    env          TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    md5          TEXT NOT NULL,
    crc32c       TEXT NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, env, bucket, key),
    FOREIGN KEY (project_id, env, bucket) REFERENCES storage_buckets (project_id, env, name)
);
CREATE INDEX storage_objects_blob ON storage_objects (blob);

-- A snapshot's copy of one scope's buckets and object rows (not bytes).
CREATE TABLE storage_snapshot_buckets (
    snapshot_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, name)
);

CREATE TABLE storage_snapshot_objects (
    snapshot_id  TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    key          TEXT NOT NULL,
    blob         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    md5          TEXT NOT NULL,
    crc32c       TEXT NOT NULL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, bucket, key)
);
CREATE INDEX storage_snapshot_objects_blob ON storage_snapshot_objects (blob);

-- +goose Down
DROP TABLE storage_snapshot_objects;
DROP TABLE storage_snapshot_buckets;
DROP TABLE storage_objects;
DROP TABLE storage_buckets;
