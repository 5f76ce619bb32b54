#!/usr/bin/env bash
# The README's figures; prints figures only:
#  - the SPA: its size as served (raw and gzipped), and first load in headless Chromium (the
#    time from navigation to a drawn 250-row inventory page, cold and warm cache);
#  - on the real worker under wrangler dev: bulk Auto Sync over 100,000 products (next to raw
#    sqlite3) and a 100,000-row file;
#  - the sync engine: change-to-storefront latency at 50 changes/s next to the floor, and
#    pushes per listing for 1,000 orders on 10 SKUs (pushing to a sandbox WooCommerce);
#  - storefronts talking back: webhook intake next to a bare one-row route, and a sale on
#    storefront A (its webhook) to storefront B holding it, at 20 orders/s.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
"$TALLY_ROOT/scripts/setup.sh" --browser
"$TALLY_ROOT/scripts/build.sh"
step "SPA size: dist/ as the worker serves it, gzip -9"
"$TALLY_ROOT/scripts/spa-size.sh"
step "bench (the driver only sends requests and times them: a debug build is enough)"
cargo run --quiet -p tally-tests --bin bench
cargo run --quiet -p tally-tests --bin bench_sync
cargo run --quiet -p tally-tests --bin bench_load
cargo run --quiet -p tally-tests --bin bench_hooks
