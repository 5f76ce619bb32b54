-- A connection's newest push, for the storefront list's "Failing" status: found through this
-- index at once, instead of walking the account's whole history back to it.
CREATE INDEX sync_history_by_storefront ON sync_history (storefront_id, id);
