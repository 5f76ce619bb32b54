#!/usr/bin/env bash
# Builds the SPA (Trunk → dist/) and the worker (worker-build → edge/build/), both release,
# and the sandbox storefronts (target/debug/sandbox) that tests and the demo push to.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"

step "App: trunk build --release → dist/"
# erase_components type-erases Leptos components: about 13% less wasm (365 → 319 kB gzipped).
RUSTFLAGS="--cfg erase_components" trunk build --release --quiet
step "Worker: worker-build --release → edge/build/"
(cd edge && worker-build --release >/dev/null)
step "Sandbox storefronts: cargo build -p tally-sandbox → target/debug/sandbox"
cargo build -p tally-sandbox --quiet
