-- Drift (edge/src/drift_job.rs): a connection's catalogue read back and compared with what
-- Tally's rules give each listing. A drift check is a catalogue read with purpose 'drift';
-- its mismatches are rows of listing_drift until fixed.
ALTER TABLE catalogue_reads ADD COLUMN purpose TEXT NOT NULL DEFAULT 'import'
  CHECK (purpose IN ('import', 'drift'));

CREATE TABLE listing_drift (
  read_id       INTEGER NOT NULL REFERENCES catalogue_reads(id) ON DELETE CASCADE,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  listing_id    INTEGER NOT NULL REFERENCES listings(id),
  expected      INTEGER NOT NULL,
  -- What the storefront showed; NULL when the item is gone or not counted there.
  found         INTEGER,
  cause         TEXT    NOT NULL CHECK (cause IN ('lower', 'higher', 'gone', 'not_counted')),
  -- When the seller pressed Fix (Tally's count was sent), NULL while open.
  fixed_at      INTEGER,
  PRIMARY KEY (read_id, listing_id)
);

-- How often the cron checks a connection for drift, and when it last started one (NULL: an
-- hour after the connection was made).
ALTER TABLE storefronts ADD COLUMN drift_every_minutes INTEGER NOT NULL DEFAULT 60
  CHECK (drift_every_minutes BETWEEN 5 AND 10080);
ALTER TABLE storefronts ADD COLUMN drift_checked_at INTEGER;

-- A full re-sync of a connection: every Auto Sync product listed there pushed again, a chunk
-- at a time as the pushes land (so Cancel stops what has not gone yet). Its pushes are the
-- outbox entries carrying its id, which is how progress counts what landed.
CREATE TABLE resync_jobs (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  storefront_id INTEGER NOT NULL REFERENCES storefronts(id),
  total         INTEGER NOT NULL,
  queued        INTEGER NOT NULL DEFAULT 0,
  cursor        INTEGER NOT NULL DEFAULT 0,
  status        TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'cancelled')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX resync_jobs_by_account ON resync_jobs (account_id, storefront_id, id);
CREATE INDEX resync_jobs_running ON resync_jobs (status, updated_at) WHERE status = 'running';
ALTER TABLE sync_outbox ADD COLUMN resync_job INTEGER REFERENCES resync_jobs(id);
CREATE INDEX sync_outbox_by_resync_job ON sync_outbox (resync_job, status) WHERE resync_job IS NOT NULL;
