-- Safety hooks are answered by hook id (from the agent WebSocket).
CREATE INDEX executions_hook ON executions (hook_id);
