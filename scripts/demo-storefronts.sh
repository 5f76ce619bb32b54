#!/usr/bin/env bash
# Connects the demo account to three sandbox storefronts (Shopify, WooCommerce, eBay) and links
# its first twelve products to all three, through the same API a seller uses. Runs once per
# state folder: an account that already has storefronts is left alone.
#   scripts/demo-storefronts.sh <tally-url> <sandbox-base-port>
set -euo pipefail
url="${1:?usage: demo-storefronts.sh <tally-url> <sandbox-base-port>}"
port="${2:?usage: demo-storefronts.sh <tally-url> <sandbox-base-port>}"

# Signed in as the demo seller, as the app is: the demo API key is the seller's to revoke.
# (The cookie is marked Secure, so it is read from the answer and sent by hand over http.)
headers="$(curl -sS --fail-with-body -D - -o /dev/null -H 'Content-Type: application/json' \
  --data '{"email":"demo@tally.example","password":"tally-demo-password"}' \
  "$url/api/v1/auth/login")"
session="$(sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-tally_session=[^;]*\).*/\1/p' <<<"$headers" | head -n 1)"
[[ -n $session ]] || { echo "Signing in as the demo seller gave no session." >&2; exit 1; }

call() { # call <method> <path> [json]: prints the body, fails on a non-2xx answer
  curl -sS --fail-with-body -X "$1" -H "Cookie: $session" -H 'X-Tally-Csrf: 1' \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$url/api/v1$2"
}

# The sandboxes start empty each run: their Shopify and WooCommerce items get the SKU and name
# of the demo product listed on them, so the link form's search finds them by either.
label_items() {
  local shop="" woo="" product sku name
  for id in $(seq 1 12); do
    product="$(call GET "/products/$id")" || continue
    [[ $product =~ \"sku\":\"([^\"]*)\" ]] || continue
    sku="${BASH_REMATCH[1]}"
    [[ $product =~ \"name\":\"([^\"]*)\" ]] && name="${BASH_REMATCH[1]}" || name="$sku"
    shop+="${shop:+,}\"$((5000 + id))@1\":{\"sku\":\"$sku\",\"title\":\"$name\"}"
    woo+="${woo:+,}\"$((6000 + id))\":{\"sku\":\"$sku\",\"title\":\"$name\"}"
  done
  curl -sS --fail-with-body -X PUT -H 'Content-Type: application/json' --data "{$shop}" \
    "http://127.0.0.1:$port/_sandbox/traits" >/dev/null &&
    curl -sS --fail-with-body -X PUT -H 'Content-Type: application/json' --data "{$woo}" \
      "http://127.0.0.1:$((port + 1))/_sandbox/traits" >/dev/null
}

existing="$(call GET /storefronts)"
if [[ $existing != '{"storefronts":[]}' ]]; then
  label_items || echo "Note: the sandbox items could not be given their SKUs (search finds them by id only)." >&2
  # The sandboxes start empty each run: Sync Now puts the listed products' quantities back,
  # and each connection subscribes its webhook address again (the sandbox forgot it).
  call POST /products/sync-now '{"ids":[1,2,3,4,5,6,7,8,9,10,11,12]}' >/dev/null
  for id in $(grep -o '"id":[0-9]*,"name"' <<<"$existing" | grep -o '[0-9]*'); do
    call POST "/storefronts/$id/subscribe" >/dev/null
  done
  echo "Demo storefronts already connected; pushed the listed products and subscribed again."
  exit 0
fi

connect() { # connect <json>: prints the new storefront's id
  local body
  body="$(call POST /storefronts "$1")"
  [[ $body =~ \"id\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}
shopify="$(connect "{\"name\":\"Shopify (sandbox)\",\"kind\":\"shopify\",\"base_url\":\"http://127.0.0.1:$port\",\"credential\":\"shpat_demo_sandbox\",\"webhook_secret\":\"sandbox-app-client-secret\",\"rules\":{\"reserve\":2}}")"
woo="$(connect "{\"name\":\"WooCommerce (sandbox)\",\"kind\":\"woocommerce\",\"base_url\":\"http://127.0.0.1:$((port + 1))\",\"credential\":\"ck_demo:cs_demo_sandbox\"}")"
ebay="$(connect "{\"name\":\"eBay (sandbox)\",\"kind\":\"ebay\",\"base_url\":\"http://127.0.0.1:$((port + 2))\",\"credential\":\"ebay_demo_sandbox\",\"rules\":{\"maximum\":25}}")"

ids=()
for id in $(seq 1 12); do
  call POST "/products/$id/listings" "{\"storefront_id\":$shopify,\"external_id\":\"$((5000 + id))\",\"external_sub_id\":\"1\"}" >/dev/null
  call POST "/products/$id/listings" "{\"storefront_id\":$woo,\"external_id\":\"$((6000 + id))\"}" >/dev/null
  call POST "/products/$id/listings" "{\"storefront_id\":$ebay,\"external_id\":\"DEMO-$id\"}" >/dev/null
  ids+=("$id")
done
label_items || echo "Note: the sandbox items could not be given their SKUs (search finds them by id only)." >&2
# Sync Now turns Auto Sync on for them and pushes their quantities: the history fills at once.
call POST /products/sync-now "{\"ids\":[$(IFS=,; echo "${ids[*]}")]}" >/dev/null
echo "Connected 3 sandbox storefronts (Shopify and WooCommerce send their orders to Tally; eBay's are polled); products 1–12 are listed on all three."
