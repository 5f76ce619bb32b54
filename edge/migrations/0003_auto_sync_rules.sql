-- Auto Sync Rules (Settings > Inventory): per creation method, whether new products start with
-- Auto Sync on. A missing row means off.
CREATE TABLE auto_sync_rules (
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  created_via  TEXT    NOT NULL
               CHECK (created_via IN ('manual', 'file_upload', 'order_import', 'listing_import', 'api')),
  auto_sync    INTEGER NOT NULL CHECK (auto_sync IN (0, 1)),
  updated_at   INTEGER NOT NULL,
  PRIMARY KEY (account_id, created_via)
);
