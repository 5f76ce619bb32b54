-- The benchmark's bare route (`POST /api/v1/bench/bare`, answered only where the
-- BENCH_ROUTES var is set, which `wrangler deploy` never sets): one row per request, the floor
-- the webhook intake is measured against. Nothing else reads or writes it.
CREATE TABLE bench_rows (
  id          INTEGER PRIMARY KEY,
  body_bytes  INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
