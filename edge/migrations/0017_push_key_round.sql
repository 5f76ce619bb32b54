-- A storefront that refuses to repeat an attempt under its idempotency key (Shopify's
-- IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED, IDEMPOTENCY_KEY_PARAMETER_MISMATCH) gets the next try
-- under a new key: the round is part of the key and goes up by one each time.
ALTER TABLE listings ADD COLUMN push_key_round INTEGER NOT NULL DEFAULT 0;
