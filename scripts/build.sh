#!/usr/bin/env bash
# Builds the SPA (Trunk → dist/) and the worker (worker-build → edge/build/), both release,
# and the sandbox storefronts (target/debug/sandbox) that tests and the demo push to.
# Offline: scripts/setup.sh has fetched every crate (CARGO_NET_OFFLINE is set in env.sh).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"

step "App: trunk build --release → dist/"
# Stable Rust, sized the conventional way: the release profile (opt-level "z", LTO, one codegen
# unit, Cargo.toml), Leptos's type-erased components (`--cfg erase_components`, about 13% less
# wasm, set for the wasm32 target in .cargo/config.toml) and wasm-opt -Oz (app/index.html).
trunk build --release --frozen --quiet
# Trunk 0.21 cannot minify wasm-bindgen's JS glue (it warns "Failed to minify JS"); esbuild
# can: 6.8 → 5.3 kB gzipped. Changing the file after Trunk is why index.html asks Trunk for no
# integrity digest on the app's JS and wasm (same origin, so it guarded nothing).
for js in dist/*.js; do
  esbuild "$js" --minify --format=esm --log-level=warning --allow-overwrite --outfile="$js"
done
# Security headers for every file of the SPA (CSP with the inline loader's hash, nosniff,
# no framing), served by Cloudflare's static assets from dist/_headers.
node scripts/spa-headers.js dist
step "Worker: worker-build --release → edge/build/"
(cd edge && worker-build --release >/dev/null)
step "Sandbox storefronts: cargo build -p tally-sandbox → target/debug/sandbox"
cargo build --locked -p tally-sandbox --quiet
