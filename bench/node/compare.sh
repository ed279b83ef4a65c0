#!/usr/bin/env bash
# Node via koffi (bindings/node) against node's own http module, and the C
# hello server for scale, in ONE run of the shared harness: keep-alive (a)
# and pipelined x16 (b), ROUNDS rounds of 1 run each (order reversed every
# other round), medians over the rounds.
#
#   bench/node/compare.sh [-r ROUNDS] [-d SECONDS] [-s SCENARIOS]
#
# Uses bench/build.sh's Release libsquall (SKIP_BUILD=1 reuses it) and
# bindings/node/node_modules (npm ci there first).  The server runs on one
# CPU (taskset by the harness): node's main thread and the squall loop's
# worker thread share it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

compare_setup "$@"
[ -d "$repo/bindings/node/node_modules/koffi" ] || (cd "$repo/bindings/node" && npm ci --no-audit --no-fund)
wait_others
export BENCH_BUILD="$out/peers" BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
ensure_idleconns "$BENCH_BUILD"
lib="$out/squall/libsquall.so.0"
dir="$BENCH_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-node"
mkdir -p "$dir"
echo "command: $0 -r $rounds -d $dur -s $scen; node $(node --version); libsquall $lib; $(git -C "$repo" rev-parse --short HEAD)" >"$dir/compare-meta.txt"
harness_rounds "$dir" "$rounds" "${BENCH_PORT:-18086}" "$dur" "$scen" -- \
  --custom node-squall-koffi "env SQUALL_LIB=$lib node $repo/bench/node/squall_hello.js {PORT}" \
  --custom node-http "node $repo/bench/node/http_hello.js {PORT}" \
  --custom squall-c "$out/squall_hello {PORT}"
echo "results: $dir" >&2
