-- Inventory file uploads. A checked file's rows are staged in upload_rows; applying it is one
-- batch of set-based statements (one transaction), so a file lands whole or not at all.
CREATE TABLE uploads (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  rows         INTEGER NOT NULL,
  ignored      TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL CHECK (status IN ('staging', 'ready', 'applied')),
  created_at   INTEGER NOT NULL,
  applied_at   INTEGER
);
CREATE INDEX uploads_by_account ON uploads (account_id, id);

CREATE TABLE upload_rows (
  upload_id  INTEGER NOT NULL REFERENCES uploads(id),
  sku        TEXT    NOT NULL,
  quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 0 AND 999999999),
  name       TEXT    NOT NULL,
  brand      TEXT    NOT NULL,
  supplier   TEXT    NOT NULL,
  tags       TEXT    NOT NULL,
  PRIMARY KEY (upload_id, sku)
);

-- A batch that must stop when a compare-and-set in it changed nothing inserts changes() here:
-- 0 fails the CHECK, which aborts (rolls back) the whole batch. Rows never outlive their batch.
CREATE TABLE write_guards (ok INTEGER NOT NULL CHECK (ok = 1));
