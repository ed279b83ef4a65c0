#!/usr/bin/env bash
# bench/instr.sh -- instructions/request (callgrind) and syscalls/request
# (strace) for squall and its peers, through the shared instr.sh, for a
# fixed request count (h2load --h1, 50 connections, keep-alive).
#
#   bench/instr.sh [-n N] [-t TAG]
#
# Native servers get N requests (default 20000); Tornado, ~60x slower under
# callgrind, gets N/4 in a second pass.  Results: bench/results/<UTC>-instr[-TAG]
# and ...-instr-py[-TAG]; bench/table.py --instr DIR reads them.
# Port 18065 (BENCH_INSTR_PORT).
# Environment: BENCH_PEERS_NATIVE, BENCH_PEERS_PY, SKIP_BUILD=1, SQUALL_SHARED_BENCH.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

n=20000
tag=
port=${BENCH_INSTR_PORT:-18065}
while [ $# -gt 0 ]; do
  case "$1" in
  -n) n=$2; shift 2 ;;
  -t) tag=-$2; shift 2 ;;
  *) echo "usage: $0 [-n N] [-t TAG]" >&2; exit 2 ;;
  esac
done

[ -n "${SKIP_BUILD:-}" ] || "$here/build.sh"
wait_others
out="$(cd "$out" && pwd)"
linked_libsquall "$out/squall_hello" >&2
export BENCH_BUILD="$out/peers"
export BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
mkdir -p "$BENCH_RESULTS"

native=${BENCH_PEERS_NATIVE:-"libevent h2o nginx mhd go limit"}
py=${BENCH_PEERS_PY:-"tornado-raw"}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
d1="$BENCH_RESULTS/$stamp-instr$tag"
d2="$BENCH_RESULTS/$stamp-instr-py$tag"

# shellcheck disable=SC2086
"$shared/instr.sh" -p "$port" -n "$n" -o "$d1" \
  --custom squall "$out/squall_hello {PORT}" \
  --custom squall-demo "$out/squall/demo --quiet --port {PORT}" \
  $native
if [ -n "$py" ]; then
  # shellcheck disable=SC2086
  "$shared/instr.sh" -p "$port" -n $((n / 4)) -o "$d2" $py
fi
echo "instr results: $d1${py:+ $d2}"
