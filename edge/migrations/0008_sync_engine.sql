-- The sync engine: storefront connections with encrypted credentials and channel rules,
-- listings with the platform's ids and what was last pushed, and one history row per attempt.

ALTER TABLE storefronts ADD COLUMN base_url TEXT NOT NULL DEFAULT '';
-- AES-GCM ciphertext (base64 of nonce || ciphertext) under the worker secret CREDENTIALS_KEY.
-- Never returned by the API.
ALTER TABLE storefronts ADD COLUMN credential_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE storefronts ADD COLUMN store_ref TEXT;
-- Channel quantity rules as JSON (domain::channel::ChannelRules).
ALTER TABLE storefronts ADD COLUMN rules TEXT NOT NULL DEFAULT '{}';
ALTER TABLE storefronts ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX storefronts_by_account ON storefronts (account_id, id);

ALTER TABLE listings ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN external_sub_id TEXT;
-- Per-listing overrides of the connection's rules.
ALTER TABLE listings ADD COLUMN rules TEXT NOT NULL DEFAULT '{}';
-- What the storefront was last told: the product version, the quantity, the outbox entry.
-- A listing pushed at the product's current version with the same quantity is up to date.
ALTER TABLE listings ADD COLUMN pushed_version INTEGER;
ALTER TABLE listings ADD COLUMN pushed_quantity INTEGER;
ALTER TABLE listings ADD COLUMN pushed_outbox INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN pushed_at INTEGER;
-- A short lease held while a push is in flight, so two consumers never push one listing at
-- once (the later one would otherwise be able to land an older quantity last).
ALTER TABLE listings ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN lease_token TEXT;
-- eBay allows 250 quantity revisions per listing per day (UTC day number and count).
ALTER TABLE listings ADD COLUMN revisions_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN revisions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX listings_once_per_item
  ON listings (storefront_id, external_id, ifnull(external_sub_id, ''));

-- One row per push attempt. A redelivered message repeats an attempt number and writes nothing.
ALTER TABLE sync_history ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sync_history ADD COLUMN storefront_id INTEGER;
ALTER TABLE sync_history ADD COLUMN breakdown TEXT;
ALTER TABLE sync_history ADD COLUMN answer TEXT;
ALTER TABLE sync_history ADD COLUMN failure TEXT;
-- When the change that caused this push happened (its outbox entry): latency = created_at - this.
ALTER TABLE sync_history ADD COLUMN changed_at INTEGER;
DROP INDEX sync_history_once;
CREATE UNIQUE INDEX sync_history_once
  ON sync_history (outbox_id, ifnull(listing_id, 0), attempt);
CREATE INDEX sync_history_recent ON sync_history (account_id, created_at);

-- The history shows which order or upload caused a push: the ledger row of that version.
CREATE INDEX quantity_changes_by_version ON quantity_changes (account_id, product_id, version);
