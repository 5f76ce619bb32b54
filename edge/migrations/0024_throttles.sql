-- Sign-in and sign-up attempts per key (a network address, an email) in fixed windows
-- (domain::throttle). One row per key; a window that has ended starts again on the next try.
CREATE TABLE throttles (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL CHECK (count >= 0)
);
