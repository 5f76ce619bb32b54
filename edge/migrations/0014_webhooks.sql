-- Storefronts talk back (issue 12). Each connection gets an unguessable webhook address
-- (hook_token) and the secret its deliveries are checked with (sealed like credentials):
-- Shopify's app client secret (given by the seller), or one Tally sets when it registers
-- its webhooks (WooCommerce signs with it, BigCommerce sends it back as a header).
ALTER TABLE storefronts ADD COLUMN hook_token TEXT;
ALTER TABLE storefronts ADD COLUMN hook_secret_enc TEXT NOT NULL DEFAULT '';
-- Per topic, what registering Tally's webhooks with the platform gave: JSON
-- [{"topic": "...", "ok": true|false, "message": "..."}].
ALTER TABLE storefronts ADD COLUMN hook_status TEXT NOT NULL DEFAULT '[]';
UPDATE storefronts SET hook_token = lower(hex(randomblob(24))) WHERE hook_token IS NULL;
CREATE UNIQUE INDEX storefronts_by_hook_token ON storefronts (hook_token);
-- Connections inserted without one (the demo seed, tests' fixtures) get one too; the worker
-- sets its own from the Web Crypto generator.
CREATE TRIGGER storefronts_hook_token AFTER INSERT ON storefronts
WHEN NEW.hook_token IS NULL
BEGIN
  UPDATE storefronts SET hook_token = lower(hex(randomblob(24))) WHERE id = NEW.id;
END;

-- Every delivery a connection's address received. A genuine one is stored before it is
-- answered and applied from the queue; UNIQUE (storefront, delivery id) makes a platform's
-- retry a no-op. Refused deliveries keep only the reason (never the unsigned body).
CREATE TABLE webhook_inbox (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  storefront_id INTEGER NOT NULL REFERENCES storefronts(id),
  delivery_id   TEXT    NOT NULL,
  format        TEXT    NOT NULL,
  topic         TEXT    NOT NULL,
  -- Dropped once handled: order payloads carry customer details Tally does not keep.
  body          TEXT,
  status        TEXT    NOT NULL
                CHECK (status IN ('received', 'applied', 'ignored', 'refused', 'failed')),
  message       TEXT    NOT NULL DEFAULT '',
  order_id      TEXT,
  received_at   INTEGER NOT NULL,
  handled_at    INTEGER,
  UNIQUE (storefront_id, delivery_id)
);
CREATE INDEX webhook_inbox_by_storefront ON webhook_inbox (account_id, storefront_id, id);
CREATE INDEX webhook_inbox_waiting ON webhook_inbox (status, received_at);

-- Where each order came from (manual, api, webhook, poll) and on which connection.
ALTER TABLE orders ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE orders ADD COLUMN storefront_id INTEGER;
CREATE INDEX orders_by_storefront ON orders (account_id, storefront_id, created_at);
