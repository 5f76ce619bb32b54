#!/usr/bin/env bash
# The README's figures; prints figures only:
#  - the SPA's size as served (raw and gzipped), against its 250 kB budget;
#  - on the real worker under wrangler dev: bulk Auto Sync over 100,000 products (next to raw
#    sqlite3) and a 100,000-row file;
#  - the sync engine: change-to-storefront latency at 50 changes/s next to the floor, and
#    pushes per listing for 1,000 orders on 10 SKUs (pushing to a sandbox WooCommerce).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
"$TALLY_ROOT/scripts/setup.sh" --browser
"$TALLY_ROOT/scripts/build.sh"
step "SPA size: dist/ as the worker serves it, gzip -9 (budget: 250 kB gzipped in all)"
total=0
for f in $(find dist -type f | sort); do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9c "$f" | wc -c)
  total=$((total + gz))
  printf '  %-44s %9d bytes %9d gzipped\n' "${f#dist/}" "$raw" "$gz"
done
printf '  %-44s %9s       %9d gzipped (%d.%d kB)\n' "all" "" "$total" $((total / 1000)) $((total % 1000 / 100))
step "bench (the driver only sends requests and times them: a debug build is enough)"
cargo run --quiet -p tally-tests --bin bench
cargo run --quiet -p tally-tests --bin bench_sync
