-- Content realm: uploads waiting for ingestion, the artifact registry with lineage, and the
-- records of parsed files (paged without re-parsing).

CREATE TABLE uploads (
    upload_id    TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (session_id),
    blob_sha256  TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX uploads_blob ON uploads (blob_sha256);

CREATE TABLE artifacts (
    artifact_id           TEXT PRIMARY KEY,
    artifact_type         TEXT NOT NULL,
    tenant_id             TEXT,
    session_id            TEXT NOT NULL REFERENCES sessions (session_id),
    lifecycle_state       TEXT NOT NULL,
    semantic_descriptor   TEXT NOT NULL,
    parent_artifacts      TEXT NOT NULL,
    produced_by_intent    TEXT NOT NULL,
    produced_by_execution TEXT NOT NULL,
    blob_sha256           TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX artifacts_tenant ON artifacts (tenant_id, created_at);
CREATE INDEX artifacts_session ON artifacts (session_id, created_at);
CREATE INDEX artifacts_blob ON artifacts (blob_sha256);
CREATE INDEX artifacts_pending ON artifacts (lifecycle_state, created_at);

CREATE TABLE artifact_parents (
    artifact_id TEXT NOT NULL REFERENCES artifacts (artifact_id),
    parent_id   TEXT NOT NULL,
    PRIMARY KEY (artifact_id, parent_id)
);
CREATE INDEX artifact_parents_parent ON artifact_parents (parent_id);

CREATE TABLE parsed_records (
    parsed_file_id TEXT NOT NULL,
    row_idx        BIGINT NOT NULL,
    record         TEXT NOT NULL,
    PRIMARY KEY (parsed_file_id, row_idx)
);
