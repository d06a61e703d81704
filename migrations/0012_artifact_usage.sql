-- What each artifact keeps stored, for the storage quotas of sessions and tenants: a file's
-- bytes, a parsed file's records (set from its descriptor's `size_bytes` / `record_count`).
ALTER TABLE artifacts ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE artifacts ADD COLUMN stored_records BIGINT NOT NULL DEFAULT 0;
