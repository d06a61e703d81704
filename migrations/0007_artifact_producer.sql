-- The janitor finds artifacts left by failed or cancelled executions by their producer.
CREATE INDEX artifacts_producer ON artifacts (produced_by_execution);
