#!/usr/bin/env bash
# Command 2: every check and test. Installs what is missing (including Chromium), checks
# formatting and lints (host and wasm32), builds the app and worker, then runs the domain unit
# tests, the integration tests against `wrangler dev` and the browser tests in headless Chromium.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"

"$TALLY_ROOT/scripts/setup.sh" --browser

step "cargo fmt --check"
cargo fmt --all --check
step "clippy, host"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings
step "clippy, wasm32"
cargo clippy --locked -p tally-domain -p tally-app -p tally-edge --target wasm32-unknown-unknown --quiet -- -D warnings

"$TALLY_ROOT/scripts/build.sh"
step "SPA size as served (dist/, gzip -9): alarm at 450 kB"
"$TALLY_ROOT/scripts/spa-size.sh" --alarm 450000

step "tests: domain unit tests, integration (wrangler dev), browser (headless Chromium)"
cargo test --locked -p tally-domain -p tally-tests
