-- `Idempotency-Key` on POST /api/v1/orders: the key, per account, with what the order asked
-- (`Order::request_text`). A repeat under the key is answered as a repeat; another order under
-- it is refused (409). An order id still applies once with or without a key; the key adds
-- telling a retry from a different order sent under the same key. Kept like the ledger's
-- adjustment keys: for good.
CREATE TABLE order_idempotency_keys (
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  key         TEXT    NOT NULL,
  request     TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
