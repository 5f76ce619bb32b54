-- Sales orders, one row per (storefront, order id): the UNIQUE index is what makes a repeated
-- order (a webhook retried, an import run twice) apply once. Its lines live in the ledger
-- (quantity_changes with source 'order' and reference 'storefront:order_id').
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  storefront  TEXT    NOT NULL,
  order_id    TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('placed', 'cancelled')),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (account_id, storefront, order_id)
);
