#!/usr/bin/env bash
# bench/rust/instr.sh -- user-space instructions per request (callgrind) of
# the Rust servers, load-independent: each server runs under callgrind twice
# (h2load --h1 -c 50 -m DEPTH, N1 then N2 requests) and the difference of
# the totals over N2 - N1 cancels start-up and shutdown.
#
#   bench/rust/instr.sh [DEPTH...]       default: 1 16 (keep-alive, pipelined)
#
# Uses the servers and libsquall that run.sh built and checked (BENCH_LIST=1
# run.sh first); port 18400 and up (BENCH_INSTR_PORT).  Needs valgrind and
# h2load (nghttp2-client).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$here/rust
n1=${INSTR_N1:-2000} n2=${INSTR_N2:-8000}
port=${BENCH_INSTR_PORT:-18400}
mapfile -t list < <(BENCH_LIST=1 "$here/run.sh" 2>/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() { # FILE: the Ir total of a callgrind output
  awk '/^(summary|totals):/ {print $2; exit}' "$1"
}
depths=("$@")
[ $# -gt 0 ] || depths=(1 16)
for depth in "${depths[@]}"; do
  for entry in "${list[@]}"; do
    name=${entry%%|*}
    port=$((port + 1))
    # "env VAR=VALUE... SERVER ARGS": valgrind goes after the assignments.
    read -r -a words <<<"${entry#*|}"
    words=("${words[@]//\{PORT\}/$port}")
    envs=()
    [ "${words[0]}" = env ] && words=("${words[@]:1}")
    while [[ "${words[0]}" == *=* ]]; do envs+=("${words[0]}"); words=("${words[@]:1}"); done
    ir=()
    for n in "$n1" "$n2"; do
      env "${envs[@]}" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "${words[@]}" >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
      h2load --h1 -n "$n" -c 50 -m "$depth" "http://127.0.0.1:$port/" >/dev/null 2>&1
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      ir+=("$(total "$tmp/cg")")
    done
    printf '%-22s depth %-2s %8d instructions/request\n' "$name" "$depth" $(((ir[1] - ir[0]) / (n2 - n1)))
  done
done
