#!/usr/bin/env bash
# bench/run.sh -- squall against its peers, through the shared harness.
#
#   bench/run.sh [harness options]          e.g.  bench/run.sh -r 1 -d 3 -s ab   (quick look)
#                                                 bench/run.sh                   (full: 3 x 8 s, a b c e)
#
# 1. bench/build.sh: squall (Release) + bench/servers/squall_hello.c + the
#    peers of the shared harness, all under bench/.build (gitignored);
# 2. the shared run.sh (../shared/bench/run.sh, or $SQUALL_SHARED_BENCH/run.sh)
#    with squall_hello ("squall"), the demo ("squall-demo") and the peers
#    (evhttp, h2o, nginx, libmicrohttpd, Go net/http, Tornado's raw
#    HTTPServer, and the "limit" floor) in ONE run, so the ratios compare
#    servers measured side by side.
# Results: bench/results/<UTC time>[-TAG]/ (gitignored; BENCH_RESULTS moves
# them), then bench/table.py prints the README table for that directory.
#
# Port 18084 by default (BENCH_PORT, or -p), apart from the harness' own
# default 18080 that other benchmarks on this machine use.
# Environment: BENCH_PEERS (default below) chooses the peers; SKIP_BUILD=1
# reuses bench/.build; SQUALL_SHARED_BENCH points at the harness.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -n "${SKIP_BUILD:-}" ] || "$here/build.sh"
wait_others
out="$(cd "$out" && pwd)"

peers=${BENCH_PEERS:-"libevent h2o nginx mhd go tornado-raw limit"}
export BENCH_BUILD="$out/peers"
export BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
mkdir -p "$BENCH_RESULTS"

# Remember which directory the harness creates, to tabulate it afterwards.
before=$(ls -1 "$BENCH_RESULTS")
# shellcheck disable=SC2086
"$shared/run.sh" -p "${BENCH_PORT:-18084}" "$@" \
  --custom squall "$out/squall_hello {PORT}" \
  --custom squall-demo "$out/squall/demo --quiet --port {PORT}" \
  $peers
new=$(comm -13 <(printf '%s\n' "$before" | sort) <(ls -1 "$BENCH_RESULTS" | sort) | tail -n 1)
if [ -n "$new" ] && [ -f "$BENCH_RESULTS/$new/runs.tsv" ]; then
  echo
  /usr/bin/env python3 "$here/table.py" --run "$BENCH_RESULTS/$new" | tee "$BENCH_RESULTS/$new/squall-table.md"
fi
