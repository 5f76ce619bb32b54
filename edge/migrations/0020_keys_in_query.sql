-- Some hosts drop the Authorization header before WordPress sees it; WooCommerce then takes
-- the consumer key and secret in the query string instead (its documented fallback, over
-- https). 1 = send them there, for this connection.
ALTER TABLE storefronts ADD COLUMN keys_in_query INTEGER NOT NULL DEFAULT 0;
