-- A product can be archived: hidden from the inventory, exports and "all in filter", kept
-- with its history, orders and listings, and brought back with Unarchive. NULL: not archived;
-- otherwise when it was archived (ms since the epoch).
ALTER TABLE products ADD COLUMN archived_at INTEGER;
