-- Pushes queued by a settings change (a listing linked or resumed, new channel rules, a
-- connection reactivated or given a new credential or address) get their own trigger,
-- 'settings', instead of passing for Sync Now in the history.
--
-- SQLite cannot change a CHECK in place, so sync_outbox is rebuilt, and sync_history with it
-- (it references sync_outbox). Renaming the old tables first makes SQLite repoint the foreign
-- key at them, so no step ever violates one; the indexes are made again once they are gone.
ALTER TABLE sync_history RENAME TO sync_history_old;
ALTER TABLE sync_outbox RENAME TO sync_outbox_old;

CREATE TABLE sync_outbox (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  version     INTEGER NOT NULL,
  trigger     TEXT    NOT NULL
              CHECK (trigger IN ('adjustment', 'order', 'upload', 'sync_now', 'settings')),
  status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
INSERT INTO sync_outbox (id, account_id, product_id, version, trigger, status, attempts, created_at, updated_at)
  SELECT id, account_id, product_id, version, trigger, status, attempts, created_at, updated_at
  FROM sync_outbox_old;

CREATE TABLE sync_history (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  product_id    INTEGER NOT NULL REFERENCES products(id),
  outbox_id     INTEGER REFERENCES sync_outbox(id),
  listing_id    INTEGER REFERENCES listings(id),
  storefront    TEXT,
  trigger       TEXT    NOT NULL,
  quantity      INTEGER NOT NULL,
  status        TEXT    NOT NULL
                CHECK (status IN ('queued', 'sent', 'succeeded', 'retrying', 'failed', 'skipped')),
  message       TEXT    NOT NULL,
  action        TEXT,
  created_at    INTEGER NOT NULL,
  attempt       INTEGER NOT NULL DEFAULT 1,
  storefront_id INTEGER,
  breakdown     TEXT,
  answer        TEXT,
  failure       TEXT,
  changed_at    INTEGER
);
INSERT INTO sync_history (id, account_id, product_id, outbox_id, listing_id, storefront, trigger,
                          quantity, status, message, action, created_at, attempt, storefront_id,
                          breakdown, answer, failure, changed_at)
  SELECT id, account_id, product_id, outbox_id, listing_id, storefront, trigger,
         quantity, status, message, action, created_at, attempt, storefront_id,
         breakdown, answer, failure, changed_at
  FROM sync_history_old;

DROP TABLE sync_history_old;
DROP TABLE sync_outbox_old;

CREATE INDEX sync_outbox_pending ON sync_outbox (status, updated_at);
CREATE INDEX sync_history_by_account ON sync_history (account_id, id);
-- One row per (outbox entry, listing, attempt): a redelivered queue message cannot write twice.
CREATE UNIQUE INDEX sync_history_once
  ON sync_history (outbox_id, ifnull(listing_id, 0), attempt);
CREATE INDEX sync_history_recent ON sync_history (account_id, created_at);
