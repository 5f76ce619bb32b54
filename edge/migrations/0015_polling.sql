-- Polling, the safety net under webhooks (issue 12): per connection, the newest order change
-- read so far (poll_cursor_ms), when a poll last started (polled_at, the cron's claim) and what
-- it found (poll_status, shown on the storefront's page). A new connection starts at its own
-- creation: Tally takes the sales made after it was connected, not the store's history.
ALTER TABLE storefronts ADD COLUMN poll_cursor_ms INTEGER;
ALTER TABLE storefronts ADD COLUMN polled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE storefronts ADD COLUMN poll_status TEXT NOT NULL DEFAULT '';
UPDATE storefronts SET poll_cursor_ms = created_at WHERE poll_cursor_ms IS NULL;
-- Rows inserted without a cursor (the demo seed, tests' fixtures) start at their creation.
CREATE TRIGGER storefronts_poll_cursor AFTER INSERT ON storefronts
WHEN NEW.poll_cursor_ms IS NULL
BEGIN
  UPDATE storefronts SET poll_cursor_ms = NEW.created_at WHERE id = NEW.id;
END;
