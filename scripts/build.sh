#!/usr/bin/env bash
# Builds the SPA (Trunk → dist/) and the worker (worker-build → edge/build/), both release,
# and the sandbox storefronts (target/debug/sandbox) that tests and the demo push to.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"

step "App: trunk build --release → dist/"
# erase_components type-erases Leptos components: about 13% less wasm (365 → 319 kB gzipped).
# The rest shrinks the SPA by compiling std with it (rust-src, pinned with the toolchain):
# a panic stops the app at once instead of formatting a message nobody reads in a shipped
# build, and `{:?}` prints nothing (fmt-debug=none: -3.5 kB against "shallow"; the one place a
# seller could see it is serde's wording of an answer the SPA cannot read, which then omits
# the offending text). These are unstable compiler options, allowed on the pinned stable
# toolchain by RUSTC_BOOTSTRAP for this one build only, in its own target directory so the
# worker, tests and lints (plain stable) never rebuild for it. 297 → 270 kB.
# wasm-opt's passes are in app/index.html: -Oz, then the control flow rebuilt (flatten,
# rereloop) and -Oz again, 3.4 kB less. Its low-memory-unused holds: Rust puts the 1 MB stack
# first, so the lowest 1 KB of memory is only reached by a stack about to overflow.
RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_TARGET_DIR=target/spa \
  RUSTFLAGS="--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none" \
  trunk build --release --quiet
# Trunk 0.21 cannot minify wasm-bindgen's JS glue (it warns "Failed to minify JS"); esbuild
# can: 6.8 → 5.3 kB gzipped. Changing the file after Trunk is why index.html asks Trunk for no
# integrity digest on the app's JS and wasm (same origin, so it guarded nothing).
for js in dist/*.js; do
  esbuild "$js" --minify --format=esm --log-level=warning --allow-overwrite --outfile="$js"
done
step "Worker: worker-build --release → edge/build/"
(cd edge && worker-build --release >/dev/null)
step "Sandbox storefronts: cargo build -p tally-sandbox → target/debug/sandbox"
cargo build -p tally-sandbox --quiet
