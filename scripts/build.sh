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
# build, and derived Debug output is left out (nothing the seller sees uses it). These are
# unstable compiler options, allowed on the pinned stable toolchain by RUSTC_BOOTSTRAP for
# this one build only; the worker, tests and lints build with plain stable. 297 → 270 kB.
# wasm-opt's passes are in app/index.html (kept out of its comments, which would ship): -Oz,
# then the control flow rebuilt (flatten, rereloop) and -Oz again, 3.4 kB less. Its
# low-memory-unused holds: Rust puts the 1 MB stack first, so the lowest 1 KB of memory is
# only reached by a stack about to overflow.
RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  RUSTFLAGS="--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none" \
  trunk build --release --quiet
step "Worker: worker-build --release → edge/build/"
(cd edge && worker-build --release >/dev/null)
step "Sandbox storefronts: cargo build -p tally-sandbox → target/debug/sandbox"
cargo build -p tally-sandbox --quiet
