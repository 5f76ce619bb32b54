#!/usr/bin/env bash
# Prints the SPA as the worker serves it (dist/), file by file, raw and gzip -9.
#   scripts/spa-size.sh              the figures (scripts/bench.sh)
#   scripts/spa-size.sh --alarm N    the same, failing when the gzipped total passes N bytes
#                                    (scripts/test.sh: a regression alarm; sizes are deterministic)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$TALLY_ROOT"
alarm=""
[[ "${1:-}" == "--alarm" ]] && alarm="${2:?usage: spa-size.sh --alarm <bytes>}"

total=0
while IFS= read -r f; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9c "$f" | wc -c)
  total=$((total + gz))
  printf '  %-44s %9d bytes %9d gzipped\n' "${f#dist/}" "$raw" "$gz"
done < <(find dist -type f | sort)
printf '  %-44s %9s       %9d gzipped (%d.%d kB)\n' "all" "" "$total" $((total / 1000)) $((total % 1000 / 100))

if [[ -n $alarm ]] && ((total > alarm)); then
  echo "The SPA grew past its alarm: $total bytes gzipped, more than $alarm." >&2
  echo "Find what grew (scripts/spa-size.sh, twiggy) before raising the alarm in scripts/test.sh." >&2
  exit 1
fi
