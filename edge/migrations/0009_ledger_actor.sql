-- Who made each quantity change (`tally_domain::actor`): `user:<email>`, `api_key:<hint>:<name>`
-- or `system`. Lines written before this migration (demo seed lines too) keep '' = unknown.
ALTER TABLE quantity_changes ADD COLUMN actor TEXT NOT NULL DEFAULT '';
