-- Amazon answers a quantity update ACCEPTED, which means accepted for processing: it may
-- still refuse it minutes later (the listing's issues say so). A listing pushed to such a
-- storefront is read back once this time (ms) has passed; NULL: nothing to read back.
ALTER TABLE listings ADD COLUMN verify_after INTEGER;
CREATE INDEX listings_to_verify ON listings (verify_after) WHERE verify_after IS NOT NULL;
