-- eBay counts its 250 daily revisions per eBay listing, and the variations of a
-- multi-variation listing share it. A listing's cap_group names that eBay listing (its
-- inventory item group key, read by listing import); revisions are then counted across the
-- group. NULL: the listing counts alone.
ALTER TABLE listings ADD COLUMN cap_group TEXT;
CREATE INDEX listings_by_cap_group ON listings (storefront_id, cap_group) WHERE cap_group IS NOT NULL;
ALTER TABLE catalogue_items ADD COLUMN cap_group TEXT;
