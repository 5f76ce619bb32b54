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
# The worker's secrets (production: `wrangler secret put CREDENTIALS_KEY` and
# `wrangler secret put PASSWORD_PEPPER`): the key that seals storefront credentials and the
# pepper mixed into password hashes. Local runs get random ones, made once per clone (a clone
# from before the pepper gets it added) and never committed.
vars="$TALLY_ROOT/edge/.dev.vars"
if [[ ! -f "$vars" ]]; then
  tmp="$(mktemp "$vars.XXXXXX")"
  echo "CREDENTIALS_KEY=\"$(head -c 32 /dev/urandom | base64)\"" >"$tmp"
  mv -n "$tmp" "$vars"
  rm -f "$tmp"
fi
if ! grep -q '^PASSWORD_PEPPER=' "$vars"; then
  echo "PASSWORD_PEPPER=\"$(head -c 32 /dev/urandom | base64)\"" >>"$vars"
fi
