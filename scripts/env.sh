# Sourced by the other scripts: paths and the switches that keep every tool offline and quiet.
# shellcheck shell=bash

TALLY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TALLY_ROOT

# Pinned tool versions. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock.
TRUNK_VERSION="0.21.14"
WORKER_BUILD_VERSION="0.8.7"
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$TALLY_ROOT/Cargo.lock")"

# cargo-installed tools, then npm's (wrangler, wasm-opt from binaryen) ahead of anything else.
export PATH="$TALLY_ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# worker-build would otherwise download wasm-bindgen/wasm-opt/esbuild from GitHub. The
# wasm-bindgen on PATH: with an empty CARGO_HOME the tools still come from the usual one.
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen || echo "${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen")"
export ESBUILD_BIN="$TALLY_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"

# Every download happens in scripts/setup.sh (which turns this off for itself): builds and
# tests use only what it fetched, so a missing step fails here instead of hiding in a cache.
export CARGO_NET_OFFLINE="${CARGO_NET_OFFLINE:-true}"

# wrangler: non-interactive, no telemetry, no network lookups.
export CI="${CI:-true}"
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG="${WRANGLER_LOG:-warn}"

# Where `scripts/run.sh` keeps its local D1/KV/Queues state between runs.
TALLY_STATE="$TALLY_ROOT/.tally/state"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
