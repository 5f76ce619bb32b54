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

  Demo account  Demo Outfitters (subscriber plan, 1,200 products)
    sign in     demo@tally.example / tally-demo-password
    API key     tally_demo_local_only_8d2f6c1a9e7b4d3c5f0a1b2c3d4e
                curl -H 'Authorization: Bearer tally_demo_local_only_8d2f6c1a9e7b4d3c5f0a1b2c3d4e' \
                  http://127.0.0.1:$port/api/v1/products

  Press Ctrl-C to stop.

MSG
cd edge
exec wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$TALLY_STATE" \
  --show-interactive-dev-session=false --test-scheduled
