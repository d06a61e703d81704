-- Upgrading an anonymous session hands its owner a new session id (the successor): the
-- anonymous id, which others may know (session fixation), then needs the owner's token.
ALTER TABLE sessions ADD COLUMN superseded_by TEXT;
-- On the successor: the anonymous session it continues (its idempotency keys still count).
ALTER TABLE sessions ADD COLUMN succeeds TEXT;
