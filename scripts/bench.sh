#!/usr/bin/env bash
# The README's figures: bulk Auto Sync over 100,000 products (next to raw sqlite3) and a
# 100,000-row inventory file, on the real worker under wrangler dev. Prints figures only.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
"$TALLY_ROOT/scripts/setup.sh" --browser
"$TALLY_ROOT/scripts/build.sh"
step "bench (the driver only sends requests and times them: a debug build is enough)"
cargo run --quiet -p tally-tests --bin bench
