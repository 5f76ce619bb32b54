-- The upload wipe guard's share, per account: applying a file that sets more than this percentage
-- of stocked products to 0 needs an explicit confirmation. 100 switches the guard off.
ALTER TABLE accounts ADD COLUMN wipe_guard_percent INTEGER NOT NULL DEFAULT 20
  CHECK (wipe_guard_percent BETWEEN 1 AND 100);
