-- Tally's first schema. Every table carries account_id: every query is scoped by it.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  plan        TEXT    NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'subscriber')),
  created_at  INTEGER NOT NULL
);

CREATE TABLE products (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  sku          TEXT    NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
  name         TEXT    NOT NULL,
  quantity     INTEGER NOT NULL CHECK (quantity BETWEEN 0 AND 999999999),
  auto_sync    INTEGER NOT NULL DEFAULT 0 CHECK (auto_sync IN (0, 1)),
  created_via  TEXT    NOT NULL
               CHECK (created_via IN ('manual', 'file_upload', 'order_import', 'listing_import', 'api')),
  -- Bumped by every quantity change; pushes and their idempotency keys are per version.
  version      INTEGER NOT NULL DEFAULT 1,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (account_id, sku)
);
CREATE INDEX products_by_account_id ON products (account_id, id);

-- The ledger: one row per change to a product's quantity on hand, written in the same batch as
-- the change. A (source, reference) pair is applied once: an order id or upload id can never
-- count twice. Manual adjustments have no reference (NULLs never collide in a UNIQUE index).
CREATE TABLE quantity_changes (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  before      INTEGER NOT NULL,
  after       INTEGER NOT NULL,
  delta       INTEGER NOT NULL,
  source      TEXT    NOT NULL CHECK (source IN ('adjustment', 'order', 'upload')),
  reference   TEXT,
  reason      TEXT    NOT NULL DEFAULT '',
  version     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (account_id, source, reference, product_id)
);
CREATE INDEX quantity_changes_by_product ON quantity_changes (account_id, product_id, id);

-- The sync outbox: written atomically with a quantity change when Auto Sync is on, so a push can
-- never be lost between the write and the queue. The cron handler re-sends entries still pending.
CREATE TABLE sync_outbox (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  version     INTEGER NOT NULL,
  trigger     TEXT    NOT NULL CHECK (trigger IN ('adjustment', 'order', 'upload', 'sync_now')),
  status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX sync_outbox_pending ON sync_outbox (status, updated_at);

CREATE TABLE storefronts (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  name        TEXT    NOT NULL,
  kind        TEXT    NOT NULL,
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at  INTEGER NOT NULL
);

CREATE TABLE listings (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES accounts(id),
  product_id     INTEGER NOT NULL REFERENCES products(id),
  storefront_id  INTEGER NOT NULL REFERENCES storefronts(id),
  active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at     INTEGER NOT NULL
);
CREATE INDEX listings_by_product ON listings (account_id, product_id);

-- Inventory Sync History: one row per push decision or attempt, newest first on screen.
CREATE TABLE sync_history (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  outbox_id   INTEGER REFERENCES sync_outbox(id),
  listing_id  INTEGER REFERENCES listings(id),
  storefront  TEXT,
  trigger     TEXT    NOT NULL,
  quantity    INTEGER NOT NULL,
  status      TEXT    NOT NULL
              CHECK (status IN ('queued', 'sent', 'succeeded', 'retrying', 'failed', 'skipped')),
  message     TEXT    NOT NULL,
  action      TEXT,
  created_at  INTEGER NOT NULL
);
CREATE INDEX sync_history_by_account ON sync_history (account_id, id);
-- One decision per (outbox entry, listing): a redelivered queue message cannot write it twice.
CREATE UNIQUE INDEX sync_history_once ON sync_history (outbox_id, ifnull(listing_id, 0));
