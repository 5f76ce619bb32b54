#!/usr/bin/env bash
# Installs what Tally needs, at pinned versions, and skips whatever is already there.
#   scripts/setup.sh            toolchain, cargo tools, npm tools (wrangler; Vendure in vendure/)
#   scripts/setup.sh --browser  the same, plus Chromium and chromedriver (for browser tests)
# Everything comes from the package registries (rustup, crates.io, npm, Debian); nothing
# downloads a prebuilt binary from anywhere else.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"

# The one script that downloads.
export CARGO_NET_OFFLINE=false

with_browser=false
[[ "${1:-}" == "--browser" ]] && with_browser=true

step "Rust toolchain (rust-toolchain.toml) with the wasm32 target"
toolchain="$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup toolchain list | grep -q "^$toolchain"; then
  rustup toolchain install "$toolchain" --profile minimal -c rustfmt,clippy -t wasm32-unknown-unknown
fi
if ! rustup target list --installed --toolchain "$toolchain" | grep -qx wasm32-unknown-unknown; then
  rustup target add --toolchain "$toolchain" wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed --toolchain "$toolchain" | grep -q "^$component"; then
    rustup component add --toolchain "$toolchain" "$component"
  fi
done

# cargo install builds these tools from source, which is most of a fresh machine's first run.
# Their own release profiles use fat LTO; plain optimisation builds them ~40% faster and they
# run just as well for our purposes.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=2 cargo install --quiet "$@"
}
have() { # have <command> <version>: the command exists and reports that version
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qw "$2"
}

step "trunk $TRUNK_VERSION"
have trunk "$TRUNK_VERSION" || fast_install --locked trunk --version "$TRUNK_VERSION"
step "worker-build $WORKER_BUILD_VERSION"
have worker-build "$WORKER_BUILD_VERSION" || fast_install --locked worker-build --version "$WORKER_BUILD_VERSION"
step "wasm-bindgen-cli $WASM_BINDGEN_VERSION (the version in Cargo.lock)"
# Without --locked: with it, this version's own lockfile fails to resolve webpki-roots.
have wasm-bindgen "$WASM_BINDGEN_VERSION" || fast_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"

step "Crates for every build (Cargo.lock, host and wasm32)"
# Builds, lints and tests then run offline (env.sh), from exactly these.
cargo fetch --locked --quiet

step "curl (Debian package; the run command talks to the local API with it)"
if ! command -v curl >/dev/null; then
  sudo_if_needed=""
  [[ "$(id -u)" != 0 ]] && sudo_if_needed="sudo"
  $sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq curl >/dev/null
fi

step "npm tools from package-lock.json (wrangler, binaryen)"
if [[ ! -x node_modules/.bin/wrangler || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

step "Vendure from vendure/package-lock.json (the real storefront in the tests and run.sh --vendure)"
if [[ ! -d vendure/node_modules/@vendure/core || vendure/package-lock.json -nt vendure/node_modules/.package-lock.json ]]; then
  # No install scripts: sql.js is WebAssembly and bcrypt ships prebuilt binaries in its
  # package, so nothing here is built or downloaded outside the registry.
  (cd vendure && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

if $with_browser; then
  step "Chromium, chromedriver, sqlite3 and python3-venv (Debian packages; tests and bench)"
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v sqlite3 >/dev/null || missing+=(sqlite3)
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  if ((${#missing[@]})); then
    sudo_if_needed=""
    [[ "$(id -u)" != 0 ]] && sudo_if_needed="sudo"
    $sudo_if_needed apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
if $with_browser; then
  step "Schemathesis from PyPI, pinned in scripts/schemathesis-requirements.txt (the API fuzz test)"
  venv=.tools/schemathesis
  if [[ ! -x $venv/bin/st || scripts/schemathesis-requirements.txt -nt $venv/.installed ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
      -r scripts/schemathesis-requirements.txt
    touch "$venv/.installed"
  fi
fi
step "Tools ready"
