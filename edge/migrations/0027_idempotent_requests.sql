-- What an adjustment sent with an Idempotency-Key asked for ("add:3", "set:12"), so a repeat
-- of the key with another request is refused instead of answered with the first one's result.
ALTER TABLE quantity_changes ADD COLUMN request TEXT;
