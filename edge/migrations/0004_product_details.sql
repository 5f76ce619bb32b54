-- Brand, supplier and tags for filtering. Tags are stored comma-separated (no commas inside a
-- tag; the domain's clean_tags guarantees it). Empty text means "not set".
ALTER TABLE products ADD COLUMN brand TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN supplier TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN tags TEXT NOT NULL DEFAULT '';
CREATE INDEX products_by_account_quantity ON products (account_id, quantity);
