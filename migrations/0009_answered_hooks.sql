-- A safety hook stays known after it is answered, so that an approval sent again (after a
-- crash, from a second tab) is told it was already answered instead of "hook not found".
ALTER TABLE executions ADD COLUMN answered_hook_id TEXT;
ALTER TABLE executions ADD COLUMN hook_decision TEXT;
CREATE INDEX executions_answered_hook ON executions (answered_hook_id)
    WHERE answered_hook_id IS NOT NULL;
