-- WooCommerce ignores the quantity of an item whose stock it does not manage. Tally turns
-- stock management on only for listings whose seller said yes (asked once per listing, when
-- a push finds the item unmanaged); 1 = yes.
ALTER TABLE listings ADD COLUMN manage_stock INTEGER NOT NULL DEFAULT 0;
