-- The janitor's sweep of artifacts left by failed or cancelled executions starts from these
-- executions (few), not from every execution there ever was.
CREATE INDEX executions_ended_badly ON executions (execution_id)
    WHERE status IN ('failed', 'cancelled');
