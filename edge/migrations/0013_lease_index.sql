-- A sync round reads back the listings it leased by their lease token: index the few rows that
-- hold one (a partial index stays tiny, since a lease lasts seconds).
CREATE INDEX listings_leased ON listings (lease_token) WHERE lease_token IS NOT NULL;
