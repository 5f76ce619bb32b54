-- Reading a storefront's catalogue as a background job (edge/src/catalogue_job.rs): listing
-- import reads it to match items to Tally by SKU. The cursor is `pages_read` with the platform's
-- next page in `page` (JSON, tally_domain::connector::catalogue::Page); each step moves both with
-- a compare-and-set, so a repeated queue message never stores a page twice.
CREATE TABLE catalogue_reads (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  storefront_id INTEGER NOT NULL REFERENCES storefronts(id),
  status        TEXT    NOT NULL
                CHECK (status IN ('reading', 'ready', 'applying', 'applied', 'failed', 'cancelled')),
  page          TEXT,
  pages_read    INTEGER NOT NULL DEFAULT 0,
  items_read    INTEGER NOT NULL DEFAULT 0,
  -- The platform's own count of the catalogue, when it gives one (for the progress bar).
  total         INTEGER,
  -- Reads in a row that the storefront did not answer; the read fails after a few.
  misses        INTEGER NOT NULL DEFAULT 0,
  -- Items per class once classified (JSON, tally_domain::listing_import::ImportCounts).
  counts        TEXT    NOT NULL DEFAULT '{}',
  -- Why it failed, or what applying did, in the seller's words.
  message       TEXT    NOT NULL DEFAULT '',
  -- Fixed when applying starts: whether products it creates start with Auto Sync on (the
  -- listing import rule) and who applied it (the ledger's actor).
  new_auto_sync INTEGER NOT NULL DEFAULT 0 CHECK (new_auto_sync IN (0, 1)),
  applied_by    TEXT    NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  finished_at   INTEGER
);
CREATE INDEX catalogue_reads_by_account ON catalogue_reads (account_id, storefront_id, id);
CREATE INDEX catalogue_reads_moving ON catalogue_reads (status, updated_at)
  WHERE status IN ('reading', 'applying');

-- One row per storefront item read, in the order read; `class` and `note` once classified.
CREATE TABLE catalogue_items (
  read_id         INTEGER NOT NULL REFERENCES catalogue_reads(id) ON DELETE CASCADE,
  n               INTEGER NOT NULL,
  external_id     TEXT    NOT NULL,
  external_sub_id TEXT,
  sku             TEXT    NOT NULL,
  title           TEXT    NOT NULL,
  quantity        INTEGER,
  not_settable    TEXT,
  class           TEXT CHECK (class IN ('matched', 'new', 'conflict', 'linked', 'skipped')),
  note            TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (read_id, n)
);
CREATE INDEX catalogue_items_by_class ON catalogue_items (read_id, class, n);
