-- The id of the request that submitted an execution (the caller's `x-request-id`, or the one
-- the Experience Plane gave it), shown in its status and logged with its lifecycle.
ALTER TABLE executions ADD COLUMN request_id TEXT;
