-- An adjustment sent with an Idempotency-Key stores it as its ledger reference
-- ('idempotency:<key>'); this index makes a repeat of the key refuse the whole write, so a
-- retried request (a timeout, a double click) never applies twice, however it races.
CREATE UNIQUE INDEX quantity_changes_idempotency_key
  ON quantity_changes (account_id, reference)
  WHERE source = 'adjustment' AND substr(reference, 1, 12) = 'idempotency:';
