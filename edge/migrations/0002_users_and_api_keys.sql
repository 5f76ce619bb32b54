-- People who sign in, and API keys for integrations. Secrets are stored only as hashes:
-- passwords as PBKDF2-SHA256 (salted, 100,000 rounds), API keys as SHA-256 of the random key.

CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES accounts(id),
  email          TEXT    NOT NULL UNIQUE,
  password_hash  TEXT    NOT NULL,
  created_at     INTEGER NOT NULL
);
CREATE INDEX users_by_account ON users (account_id);

CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY,
  account_id    INTEGER NOT NULL REFERENCES accounts(id),
  name          TEXT    NOT NULL,
  -- The first characters of the key, so a seller can tell keys apart; never enough to use.
  hint          TEXT    NOT NULL,
  digest        TEXT    NOT NULL UNIQUE,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, id);
