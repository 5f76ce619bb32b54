-- A product's newest push (the inventory's Storefronts column and its "Not synced" filter) and
-- a product's history page, found through this index instead of the account's whole history.
CREATE INDEX sync_history_by_product ON sync_history (product_id, id);
