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
