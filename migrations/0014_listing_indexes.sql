-- Listings (GET /api/executions, GET /api/sessions) read newest first, by tenant or overall.
CREATE INDEX executions_tenant_created ON executions (tenant_id, created_at);
CREATE INDEX executions_created ON executions (created_at);
CREATE INDEX sessions_tenant_created ON sessions (tenant_id, created_at);
CREATE INDEX sessions_created ON sessions (created_at);
