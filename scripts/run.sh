#!/usr/bin/env bash
# Command 1: from a fresh clone to Tally running at http://127.0.0.1:8787 with demo data.
# Installs what is missing, builds, migrates and seeds local D1, then runs `wrangler dev`
# (workerd with local D1, KV and Queues). State persists in .tally/state between runs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
port="${TALLY_PORT:-8787}"

"$TALLY_ROOT/scripts/setup.sh"
"$TALLY_ROOT/scripts/build.sh"
step "Local D1: migrations and demo data (.tally/state)"
"$TALLY_ROOT/scripts/db.sh" "$TALLY_STATE"

cat <<MSG

  Tally is starting at http://127.0.0.1:$port
  Demo account: Demo Outfitters (1,200 products). Press Ctrl-C to stop.

MSG
cd edge
exec wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$TALLY_STATE" \
  --show-interactive-dev-session=false --test-scheduled
