#!/usr/bin/env bash
# Node via koffi (bindings/node) against node's own http module, and the C
# hello server for scale, in ONE run of the shared harness: keep-alive (a)
# and pipelined x16 (b), ROUNDS rounds of 1 run each (order reversed every
# other round), medians over the rounds.
#
#   bench/node/compare.sh [-r ROUNDS] [-d SECONDS] [-s SCENARIOS]
#
# Uses bench/build.sh's Release libsquall of the tree given (SQUALL_SRC, see
# ../lib.sh; SKIP_BUILD=1 reuses bench/.build) and that tree's
# bindings/node (npm ci there first if koffi is missing); prints which
# libsquall it loads.  The server runs on one CPU (taskset by the harness):
# node's main thread and the squall loop's worker thread share it.
# BENCH_LIST=1: build, then print the servers as NAME|COMMAND lines instead
# of running the harness (bench/page.sh uses it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

compare_setup "$@"
[ -d "$src/bindings/node/node_modules/koffi" ] || (cd "$src/bindings/node" && npm ci --no-audit --no-fund >&2)
lib="$out/squall/libsquall.so.0"
libsquall_info "$lib" >&2
servers=(--custom node-squall-koffi "env SQUALL_LIB=$lib node $src/bench/node/squall_hello.js {PORT}"
         --custom node-http "node $src/bench/node/http_hello.js {PORT}"
         --custom squall-c "$out/squall_hello {PORT}")
compare_ready "${servers[@]}"
dir="$BENCH_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-node"
mkdir -p "$dir"
echo "command: $0 -r $rounds -d $dur -s $scen; node $(node --version); $(libsquall_info "$lib"); $(git -C "$src" rev-parse --short HEAD)" >"$dir/compare-meta.txt"
harness_rounds "$dir" "$rounds" "${BENCH_PORT:-18086}" "$dur" "$scen" -- "${servers[@]}"
echo "results: $dir" >&2
