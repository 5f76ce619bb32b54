-- Large inventory files apply as a background job, chunk by chunk (store/uploads.rs):
-- uploads gain an 'applying' status, a cursor (applied_rows), the preview taken when applying
-- started (summary, JSON), what every step must write alike (applied_by, new_auto_sync) and
-- updated_at (the cron resumes a job that stopped moving);
-- upload_rows gain their line in the file, which is what a chunk is cut by.
--
-- SQLite cannot change a CHECK in place, so both tables are rebuilt. Renaming the old tables
-- first makes SQLite repoint foreign keys at them, so no step ever violates one.
ALTER TABLE upload_rows RENAME TO upload_rows_old;
ALTER TABLE uploads RENAME TO uploads_old;
DROP INDEX uploads_by_account;

CREATE TABLE uploads (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES accounts(id),
  rows         INTEGER NOT NULL,
  ignored      TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL CHECK (status IN ('staging', 'ready', 'applying', 'applied')),
  applied_rows INTEGER NOT NULL DEFAULT 0,
  summary      TEXT    NOT NULL DEFAULT '',
  -- Fixed when applying starts, so every step of the job writes the same: who applied the file
  -- (the ledger's actor) and whether products it creates start with Auto Sync on (the rules).
  applied_by   TEXT    NOT NULL DEFAULT '',
  new_auto_sync INTEGER NOT NULL DEFAULT 0 CHECK (new_auto_sync IN (0, 1)),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL DEFAULT 0,
  applied_at   INTEGER
);
INSERT INTO uploads (id, account_id, rows, ignored, status, applied_rows, created_at, updated_at, applied_at)
  SELECT id, account_id, rows, ignored, status,
         CASE WHEN status = 'applied' THEN rows ELSE 0 END,
         created_at, ifnull(applied_at, created_at), applied_at
  FROM uploads_old;
CREATE INDEX uploads_by_account ON uploads (account_id, id);
CREATE INDEX uploads_applying ON uploads (status, updated_at);

CREATE TABLE upload_rows (
  upload_id  INTEGER NOT NULL REFERENCES uploads(id),
  line       INTEGER NOT NULL,
  sku        TEXT    NOT NULL,
  quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 0 AND 999999999),
  name       TEXT    NOT NULL,
  brand      TEXT    NOT NULL,
  supplier   TEXT    NOT NULL,
  tags       TEXT    NOT NULL,
  PRIMARY KEY (upload_id, sku)
);
INSERT INTO upload_rows (upload_id, line, sku, quantity, name, brand, supplier, tags)
  SELECT upload_id, row_number() OVER (PARTITION BY upload_id ORDER BY rowid),
         sku, quantity, name, brand, supplier, tags
  FROM upload_rows_old;
CREATE INDEX upload_rows_by_line ON upload_rows (upload_id, line);

DROP TABLE upload_rows_old;
DROP TABLE uploads_old;
