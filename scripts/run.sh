#!/usr/bin/env bash
# Command 1: from a fresh clone to Tally running at http://127.0.0.1:8787 with demo data.
# Installs what is missing, builds, migrates and seeds local D1, starts three sandbox
# storefronts (Shopify, WooCommerce, eBay on ports 8791–8793) and `wrangler dev` (workerd with
# local D1, KV and Queues), then connects the demo account to the sandboxes. State persists in
# .tally/state between runs.
#   scripts/run.sh --vendure   also starts a real Vendure storefront (open source, vendure/) on
#                              127.0.0.1:3000 and connects it (state in .tally/vendure)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
port="${TALLY_PORT:-8787}"
sandbox_port="${TALLY_SANDBOX_PORT:-8791}"
vendure_port="${TALLY_VENDURE_PORT:-3000}"
with_vendure=false
[[ "${1:-}" == "--vendure" ]] && with_vendure=true

"$TALLY_ROOT/scripts/setup.sh"
"$TALLY_ROOT/scripts/build.sh"
step "Local D1: migrations and demo data (.tally/state)"
"$TALLY_ROOT/scripts/db.sh" "$TALLY_STATE"

# Everything started below stops with this script (Ctrl-C included).
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

step "Sandbox storefronts on 127.0.0.1:$sandbox_port–$((sandbox_port + 2))"
"$TALLY_ROOT/target/debug/sandbox" \
  --listen "shopify=127.0.0.1:$sandbox_port" --credential shopify=shpat_demo_sandbox \
  --listen "woocommerce=127.0.0.1:$((sandbox_port + 1))" --credential woocommerce=ck_demo:cs_demo_sandbox \
  --listen "ebay=127.0.0.1:$((sandbox_port + 2))" --credential ebay=ebay_demo_sandbox \
  --seed "$TALLY_ROOT/edge/seed/sandbox.json" >"$TALLY_ROOT/.tally/sandbox.log" 2>&1 &
pids+=($!)

step "wrangler dev on 127.0.0.1:$port"
# TALLY_NETWORK=development lets connections point at storefronts on this machine (the
# sandboxes, Vendure); a deployed worker never has it and calls only public https addresses.
(cd edge && exec wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$TALLY_STATE" \
  --show-interactive-dev-session=false --test-scheduled --var TALLY_NETWORK:development) &
wrangler_pid=$!
pids+=("$wrangler_pid")
# A cold start answers in 5–11 s on 2 cores; two minutes means something is wrong.
ready=false
for _ in $(seq 1 240); do
  if curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null; then ready=true; break; fi
  kill -0 "$wrangler_pid" 2>/dev/null || break
  sleep 0.5
done
if ! $ready; then
  echo >&2
  echo "Tally did not start: wrangler dev never answered http://127.0.0.1:$port/api/v1/health." >&2
  echo "Its messages are above. Is port $port taken? Try TALLY_PORT=8788 scripts/run.sh." >&2
  exit 1
fi
# The demo storefronts are a convenience: whatever the seller changed since the last run, the
# app starts anyway, and this says what could not be set up.
"$TALLY_ROOT/scripts/demo-storefronts.sh" "http://127.0.0.1:$port" "$sandbox_port" ||
  echo "Note: the demo storefronts could not be set up (above); Tally runs without them." >&2

vendure_note=""
if $with_vendure; then
  step "Vendure on 127.0.0.1:$vendure_port (.tally/vendure)"
  (cd vendure && VENDURE_PORT="$vendure_port" exec node server.js "$TALLY_ROOT/.tally/vendure") \
    >"$TALLY_ROOT/.tally/vendure.log" 2>&1 &
  vendure_pid=$!
  pids+=("$vendure_pid")
  vendure_ready=false
  for _ in $(seq 1 240); do
    if grep -q "vendure ready" "$TALLY_ROOT/.tally/vendure.log"; then vendure_ready=true; break; fi
    kill -0 "$vendure_pid" 2>/dev/null || break
    sleep 0.5
  done
  if $vendure_ready && node vendure/demo-tally.js "http://127.0.0.1:$port" "http://127.0.0.1:$vendure_port"; then
    vendure_note="
  Vendure       http://127.0.0.1:$vendure_port (admin superadmin / superadmin; log: .tally/vendure.log),
                connected as \"Vendure (local)\" with demo products 1–6. A shopper's order:
                VENDURE_PORT=$vendure_port node vendure/order.js <SKU> [quantity]
                (cancel: VENDURE_PORT=$vendure_port node vendure/order.js --cancel <CODE>)
"
  else
    kill "$vendure_pid" 2>/dev/null || true
    echo "Note: Vendure could not be started or connected (see .tally/vendure.log); Tally runs without it." >&2
  fi
fi

# wrangler dev does not fire cron triggers by itself: ring the test hook every minute, as
# Cloudflare would (re-sends lost queue messages, resumes stalled bulk and upload jobs).
(while sleep 60; do curl -sf "http://127.0.0.1:$port/__scheduled?cron=*+*+*+*+*" >/dev/null || true; done) &
pids+=($!)

demo_key="tally_demo_local_only_8d2f6c1a9e7b4d3c5f0a1b2c3d4e"
key_note=""
curl -sf -o /dev/null -H "Authorization: Bearer $demo_key" "http://127.0.0.1:$port/api/v1/auth/me" ||
  key_note=" (revoked in Settings › API keys: create a new key there)"

cat <<MSG

  Tally is running at http://127.0.0.1:$port

  Demo account  Demo Outfitters (subscriber plan, 1,200 products)
    sign in     demo@tally.example / tally-demo-password
    API key     $demo_key$key_note
                curl -H 'Authorization: Bearer $demo_key' \\
                  http://127.0.0.1:$port/api/v1/products
  Storefronts   three sandboxes (Shopify, WooCommerce, eBay) with products 1–12 listed;
                what they hold: curl http://127.0.0.1:$sandbox_port/_sandbox/items
                (log: .tally/sandbox.log). Adjust a listed product and watch History.
$vendure_note
  Press Ctrl-C to stop.

MSG
wait
