#!/usr/bin/env bash
# bench/floor.sh -- the C core against the floor (issue 13): one run that
# measures squall_hello, the "limit" floor server, nginx and h2o side by side.
#
#   bench/floor.sh [-r RUNS] [-d SECONDS] [-n REQUESTS]
#
# 1. CPU: the shared run.sh, scenarios a (keep-alive) and c (Connection:
#    close, a new connection per request), RUNS x SECONDS (default 3 x 8);
#    server CPU microseconds per request = (utime+stime) / requests, median.
# 2. Instructions: the shared instr.sh under callgrind, pipelined (-m 16),
#    REQUESTS (default 100000) after a warm-up: user-space Ir per request.
# 3. System calls: the shared instr.sh under strace -c -f, keep-alive (-m 1)
#    and pipelined (-m 16), REQUESTS/5 each: calls per request, by name.
# 4. System calls per connection: strace -c -f attached to the server while
#    wrk -t1 -c50 -d3s -H 'Connection: close' runs (not the floor server,
#    which does not implement Connection: close): calls per request (= per
#    connection), by name.
# Results: bench/results/<UTC>-floor/ (summary.md is the README table).
# Port 18067 (BENCH_FLOOR_PORT).  SKIP_BUILD=1 reuses bench/.build (it is
# rebuilt from this tree otherwise).  FLOOR_PEERS: the peers (default
# "limit nginx h2o").
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=3 dur=8 n=100000
while getopts r:d:n: o; do
  case $o in
  r) runs=$OPTARG ;; d) dur=$OPTARG ;; n) n=$OPTARG ;; *) sed -n '2,21p' "$0"; exit 2 ;;
  esac
done
port=${BENCH_FLOOR_PORT:-18067}

[ -n "${SKIP_BUILD:-}" ] || "$here/build.sh"
wait_others
out="$(cd "$out" && pwd)"
export BENCH_BUILD="$out/peers"
export BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
dir="$BENCH_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-floor"
mkdir -p "$dir"
sq=(--custom squall "$out/squall_hello {PORT}")
peers=${FLOOR_PEERS:-"limit nginx h2o"}

# 1. CPU per request, keep-alive and connection-per-request.
# shellcheck disable=SC2086
"$shared/run.sh" -p "$port" -r "$runs" -d "$dur" -s ac -o "$dir/cpu" \
  --quiet-wait "${FLOOR_QUIET_WAIT:-40}" "${sq[@]}" $peers \
  >"$dir/cpu.log" 2>&1 || { echo "run.sh failed, see $dir/cpu.log" >&2; exit 1; }
# 2. instructions per pipelined request.
# shellcheck disable=SC2086
"$shared/instr.sh" -p "$port" -n "$n" -m 16 --no-strace -o "$dir/ir-m16" "${sq[@]}" $peers \
  >"$dir/ir.log" 2>&1 || true
# 3. system calls per request, keep-alive and pipelined.
for m in 1 16; do
  # shellcheck disable=SC2086
  "$shared/instr.sh" -p "$port" -n $((n / 5)) -m "$m" --no-callgrind -o "$dir/sys-m$m" "${sq[@]}" $peers \
    >"$dir/sys-m$m.log" 2>&1 || true
done

# 4. system calls per connection.
export BENCH_TMPDIR
BENCH_TMPDIR=$(mktemp -d)
st_pid=
cleanup() {
  [ -n "$st_pid" ] && kill -INT "$st_pid" 2>/dev/null
  stop
  rm -rf "$BENCH_TMPDIR"
}
trap cleanup EXIT
url="http://127.0.0.1:$port/"
for name in squall $peers; do
  case $name in
  limit) continue ;;
  squall) cmd="$out/squall_hello $port" ;;
  nginx) cmd="$shared/servers/nginx.sh $port" ;;
  h2o) cmd="$BENCH_BUILD/h2o_hello $port" ;;
  esac
  taskset -c 0 bash -c "exec $cmd" >"$dir/conn-$name.server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$url" && break
    sleep 0.1
  done
  taskset -c 1 wrk -t1 -c50 -d1s -H 'Connection: close' "$url" >/dev/null 2>&1 || true
  targs=()
  for p in $pid $(ps -o pid= --ppid "$pid"); do
    for t in /proc/"$p"/task/*; do targs+=(-p "${t##*/}"); done
  done
  strace -f -c -U name,calls,errors -o "$dir/conn-$name.strace.txt" "${targs[@]}" 2>/dev/null &
  st_pid=$!
  sleep 1
  taskset -c 1 wrk -t1 -c50 -d3s -H 'Connection: close' "$url" >"$dir/conn-$name.wrk.txt" 2>&1 || true
  kill -INT "$st_pid" 2>/dev/null || true
  wait "$st_pid" 2>/dev/null || true
  st_pid=
  stop
done

python3 "$here/floor_table.py" "$dir" | tee "$dir/summary.md"
