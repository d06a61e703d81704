-- Runtime Plane tables. Portable between SQLite and PostgreSQL: timestamps are microseconds
-- since the Unix epoch (BIGINT), JSON documents are TEXT.

CREATE TABLE sessions (
    session_id  TEXT PRIMARY KEY,
    tenant_id   TEXT,
    user_id     TEXT,
    status      TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sessions_tenant ON sessions (tenant_id);

CREATE TABLE executions (
    execution_id TEXT PRIMARY KEY,
    intent_id    TEXT NOT NULL,
    intent_type  TEXT NOT NULL,
    session_id   TEXT NOT NULL REFERENCES sessions (session_id),
    tenant_id    TEXT,
    solution_id  TEXT NOT NULL,
    parameters   TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    artifacts    TEXT,
    hook_id      TEXT,
    hook_reason  TEXT,
    epoch        BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    started_at   BIGINT,
    completed_at BIGINT,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX executions_session ON executions (session_id, created_at);
CREATE INDEX executions_unfinished ON executions (status)
    WHERE status IN ('pending', 'running', 'awaiting_approval');

CREATE TABLE execution_steps (
    execution_id TEXT NOT NULL REFERENCES executions (execution_id),
    idx          BIGINT NOT NULL,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    output       TEXT,
    error        TEXT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    started_at   BIGINT,
    completed_at BIGINT,
    PRIMARY KEY (execution_id, idx)
);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    execution_id TEXT NOT NULL REFERENCES executions (execution_id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE events (
    event_id     TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (session_id),
    seq          BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    execution_id TEXT,
    event_key    TEXT,
    data         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE UNIQUE INDEX events_dedupe ON events (session_id, event_key);
CREATE INDEX events_execution ON events (execution_id, seq);
