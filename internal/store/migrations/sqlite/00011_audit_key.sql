-- +goose Up
-- The audit chain is keyed: each entry's mac is an HMAC-SHA256 under a key
-- derived from the master key (which the database never holds), named by
-- key_id so entries made before a key rotation still verify. Entries with
-- an empty key_id predate keyed chains; the server re-chains them once.
ALTER TABLE audit_log RENAME COLUMN hash TO mac;
ALTER TABLE audit_log RENAME COLUMN prev_hash TO prev_mac;
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN key_id;
ALTER TABLE audit_log RENAME COLUMN prev_mac TO prev_hash;
ALTER TABLE audit_log RENAME COLUMN mac TO hash;
