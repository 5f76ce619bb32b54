-- What each API key may do (see `tally_domain::scope`). Keys made before scopes existed could
-- do everything, so they keep `admin`: narrowing them would break an integration without
-- warning. New keys choose their scope.
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin'
  CHECK (scope IN ('read', 'write', 'admin'));
