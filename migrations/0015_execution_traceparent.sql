-- The W3C trace context of the request that submitted an execution, when traces are
-- exported: the execution's run continues that trace.
ALTER TABLE executions ADD COLUMN traceparent TEXT;
