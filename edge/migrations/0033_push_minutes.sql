-- Per-minute rollups of pushes for the health panel (domain `sync_health`). The panel used to
-- read the last hour of sync_history rows on every refresh; a busy account writes tens of
-- thousands of them an hour. Triggers keep the rollups, so every way a row is written (a new
-- row, an outcome replacing its placeholder, a later refusal, a give-up) counts exactly as the
-- rows themselves would: a row counts while its status is a push (sent, succeeded, retrying,
-- failed), in the minute of its created_at.

-- The latency bucket of a succeeded push (domain `sync_health::LATENCY_BOUNDS_MS`; a unit test
-- there checks this CASE against those bounds).
ALTER TABLE sync_history ADD COLUMN latency_bucket INTEGER GENERATED ALWAYS AS (
  CASE WHEN status = 'succeeded' AND changed_at IS NOT NULL THEN
    CASE
      WHEN max(0, created_at - changed_at) <= 10 THEN 0
      WHEN max(0, created_at - changed_at) <= 15 THEN 1
      WHEN max(0, created_at - changed_at) <= 20 THEN 2
      WHEN max(0, created_at - changed_at) <= 30 THEN 3
      WHEN max(0, created_at - changed_at) <= 50 THEN 4
      WHEN max(0, created_at - changed_at) <= 70 THEN 5
      WHEN max(0, created_at - changed_at) <= 100 THEN 6
      WHEN max(0, created_at - changed_at) <= 150 THEN 7
      WHEN max(0, created_at - changed_at) <= 200 THEN 8
      WHEN max(0, created_at - changed_at) <= 300 THEN 9
      WHEN max(0, created_at - changed_at) <= 500 THEN 10
      WHEN max(0, created_at - changed_at) <= 700 THEN 11
      WHEN max(0, created_at - changed_at) <= 1000 THEN 12
      WHEN max(0, created_at - changed_at) <= 1500 THEN 13
      WHEN max(0, created_at - changed_at) <= 2000 THEN 14
      WHEN max(0, created_at - changed_at) <= 3000 THEN 15
      WHEN max(0, created_at - changed_at) <= 5000 THEN 16
      WHEN max(0, created_at - changed_at) <= 7000 THEN 17
      WHEN max(0, created_at - changed_at) <= 10000 THEN 18
      WHEN max(0, created_at - changed_at) <= 15000 THEN 19
      WHEN max(0, created_at - changed_at) <= 20000 THEN 20
      WHEN max(0, created_at - changed_at) <= 30000 THEN 21
      WHEN max(0, created_at - changed_at) <= 60000 THEN 22
      WHEN max(0, created_at - changed_at) <= 120000 THEN 23
      WHEN max(0, created_at - changed_at) <= 300000 THEN 24
      WHEN max(0, created_at - changed_at) <= 600000 THEN 25
      WHEN max(0, created_at - changed_at) <= 1800000 THEN 26
      WHEN max(0, created_at - changed_at) <= 3600000 THEN 27
      WHEN max(0, created_at - changed_at) <= 21600000 THEN 28
      WHEN max(0, created_at - changed_at) <= 86400000 THEN 29
      ELSE 30
    END
  END
) VIRTUAL;

CREATE TABLE push_minutes (
  account_id    INTEGER NOT NULL,
  storefront_id INTEGER NOT NULL,
  -- The minute's start, in milliseconds since the epoch.
  minute        INTEGER NOT NULL,
  -- The storefront's name as the newest row of the minute gave it.
  storefront    TEXT    NOT NULL DEFAULT '',
  pushes        INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  -- Succeeded pushes per latency bucket, as a JSON object: {"12": 3}.
  latencies     TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (account_id, storefront_id, minute)
) WITHOUT ROWID;
-- For the cron's pruning, which goes by age across accounts.
CREATE INDEX push_minutes_by_minute ON push_minutes (minute);

-- Counts NEW in; the update trigger below first takes OLD out.
CREATE TRIGGER push_minutes_count_new AFTER INSERT ON sync_history
WHEN NEW.storefront_id IS NOT NULL AND NEW.status IN ('sent', 'succeeded', 'retrying', 'failed')
BEGIN
  INSERT INTO push_minutes (account_id, storefront_id, minute, storefront, pushes, failures, latencies)
  VALUES (NEW.account_id, NEW.storefront_id, NEW.created_at - NEW.created_at % 60000,
          ifnull(NEW.storefront, ''), 1, NEW.status IN ('retrying', 'failed'),
          CASE WHEN NEW.latency_bucket IS NULL THEN '{}'
               ELSE json_object(CAST(NEW.latency_bucket AS TEXT), 1) END )
  ON CONFLICT (account_id, storefront_id, minute) DO UPDATE SET
    pushes = pushes + 1,
    failures = failures + excluded.failures,
    storefront = excluded.storefront,
    latencies = CASE WHEN NEW.latency_bucket IS NULL THEN latencies
      ELSE json_set(latencies, '$."' || NEW.latency_bucket || '"',
                    ifnull(json_extract(latencies, '$."' || NEW.latency_bucket || '"'), 0) + 1) END;
END;

CREATE TRIGGER push_minutes_move AFTER UPDATE OF status, created_at, changed_at, storefront_id
ON sync_history
BEGIN
  UPDATE push_minutes SET
    pushes = max(0, pushes - 1),
    failures = max(0, failures - (OLD.status IN ('retrying', 'failed'))),
    latencies = CASE WHEN OLD.latency_bucket IS NULL THEN latencies
      ELSE json_set(latencies, '$."' || OLD.latency_bucket || '"',
                    max(0, ifnull(json_extract(latencies, '$."' || OLD.latency_bucket || '"'), 0) - 1)) END
  WHERE OLD.storefront_id IS NOT NULL AND OLD.status IN ('sent', 'succeeded', 'retrying', 'failed')
    AND account_id = OLD.account_id AND storefront_id = OLD.storefront_id
    AND minute = OLD.created_at - OLD.created_at % 60000;
  INSERT INTO push_minutes (account_id, storefront_id, minute, storefront, pushes, failures, latencies)
  SELECT NEW.account_id, NEW.storefront_id, NEW.created_at - NEW.created_at % 60000,
         ifnull(NEW.storefront, ''), 1, NEW.status IN ('retrying', 'failed'),
         CASE WHEN NEW.latency_bucket IS NULL THEN '{}'
              ELSE json_object(CAST(NEW.latency_bucket AS TEXT), 1) END
  WHERE NEW.storefront_id IS NOT NULL AND NEW.status IN ('sent', 'succeeded', 'retrying', 'failed')
  ON CONFLICT (account_id, storefront_id, minute) DO UPDATE SET
    pushes = pushes + 1,
    failures = failures + excluded.failures,
    storefront = excluded.storefront,
    latencies = CASE WHEN NEW.latency_bucket IS NULL THEN latencies
      ELSE json_set(latencies, '$."' || NEW.latency_bucket || '"',
                    ifnull(json_extract(latencies, '$."' || NEW.latency_bucket || '"'), 0) + 1) END;
END;

-- The last two hours of history, rolled up once, so the panel is whole from the start.
INSERT INTO push_minutes (account_id, storefront_id, minute, storefront, pushes, failures, latencies)
SELECT account_id, storefront_id, minute, max(storefront), sum(n), sum(f),
       ifnull(json_group_object(CAST(latency_bucket AS TEXT), n) FILTER (WHERE latency_bucket IS NOT NULL), '{}')
FROM (
  SELECT account_id, storefront_id, created_at - created_at % 60000 AS minute,
         ifnull(max(storefront), '') AS storefront, latency_bucket,
         count(*) AS n, sum(status IN ('retrying', 'failed')) AS f
  FROM sync_history
  -- By account, so the history index (account_id, created_at) finds the rows instead of
  -- reading 90 days of history; from the start of a minute, so no minute is half counted.
  WHERE account_id IN (SELECT id FROM accounts)
    AND created_at >= (CAST(strftime('%s', 'now') AS INTEGER) / 60 * 60 - 7200) * 1000
    AND storefront_id IS NOT NULL AND status IN ('sent', 'succeeded', 'retrying', 'failed')
  GROUP BY 1, 2, 3, 5
)
GROUP BY 1, 2, 3;
