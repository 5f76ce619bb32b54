#!/usr/bin/env bash
# Applies D1 migrations and the demo data to a local state folder.
#   scripts/db.sh <persist-dir>
set -euo pipefail
source "$(dirname "$0")/env.sh"
persist="${1:?usage: scripts/db.sh <persist-dir>}"
mkdir -p "$persist"
cd "$TALLY_ROOT/edge"
wrangler d1 migrations apply tally --local --persist-to "$persist" >/dev/null
wrangler d1 execute tally --local --persist-to "$persist" --file seed/demo.sql >/dev/null
# The key that seals storefront credentials (production: `wrangler secret put CREDENTIALS_KEY`).
# Local runs get a random one, made once per clone and never committed.
if [[ ! -f "$TALLY_ROOT/edge/.dev.vars" ]]; then
  tmp="$(mktemp "$TALLY_ROOT/edge/.dev.vars.XXXXXX")"
  echo "CREDENTIALS_KEY=\"$(head -c 32 /dev/urandom | base64)\"" >"$tmp"
  mv -n "$tmp" "$TALLY_ROOT/edge/.dev.vars"
  rm -f "$tmp"
fi
