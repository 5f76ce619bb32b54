-- "For all in filter" bulk jobs. The cursor is the last product id handled: chunks advance it
-- with a compare-and-set, so a repeated or reordered queue message never handles a chunk twice.
CREATE TABLE bulk_jobs (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  action      TEXT    NOT NULL CHECK (action IN ('auto_sync_on', 'auto_sync_off')),
  filter      TEXT    NOT NULL,
  total       INTEGER NOT NULL,
  done        INTEGER NOT NULL DEFAULT 0,
  cursor      INTEGER NOT NULL DEFAULT 0,
  status      TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'cancelled')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX bulk_jobs_by_account ON bulk_jobs (account_id, id);
