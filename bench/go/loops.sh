#!/usr/bin/env bash
# The Go binding on one loop and on two (Server.Loops), beside Go's
# net/http, in one run: hello world, keep-alive, wrk -t1 -c50 pinned to CPU
# 1 (the servers may use both CPUs), RUNS runs of DUR seconds each,
# interleaved; prints the median requests/s and the median server CPU time
# per request (utime + stime of the server process from /proc, over the
# run).  On a 2-core machine the load generator takes one core, so two
# loops cannot show wall-clock scaling: the CPU per request shows whether
# the second loop costs extra work (locks, hand-offs).
#
#   bench/go/loops.sh            RUNS=3 DUR=5 GO_LOOPS_PROCS=2
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
runs=${RUNS:-3}
dur=${DUR:-5}
procs=${GO_LOOPS_PROCS:-2}
port=${GO_BENCH_PORT:-18048}
bin=${GO_BENCH_BIN:-$here/go/bin}

# Build (and list) the servers through run.sh.
GO_BENCH_SERVERS="raw http nethttp" GO_BENCH_PROCS=$procs BENCH_LIST=1 "$here/go/run.sh" > /dev/null
export LD_LIBRARY_PATH="$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
wait_others

configs=(
  "go-squall-http-l1|env GOMAXPROCS=$procs SQUALL_GO_LOOPS=1 $bin/http $port"
  "go-squall-http-l2|env GOMAXPROCS=$procs SQUALL_GO_LOOPS=2 $bin/http $port"
  "go-squall-raw-l1|env GOMAXPROCS=$procs SQUALL_GO_LOOPS=1 $bin/raw $port"
  "go-squall-raw-l2|env GOMAXPROCS=$procs SQUALL_GO_LOOPS=2 $bin/raw $port"
  "go-nethttp|env GOMAXPROCS=$procs $bin/nethttp $port"
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

one_run() { # name command -> appends "rps us_per_req" to $tmp/name
  local name=$1 cmd=$2 pid
  $cmd 2> "$tmp/$name.log" &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/" > /dev/null 2>&1 && break
    sleep 0.05
  done
  taskset -c 1 wrk -t1 -c50 -d1s "http://127.0.0.1:$port/" > /dev/null # warm-up
  local t0 t1 out reqs
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c50 -d"${dur}s" "http://127.0.0.1:$port/")
  t1=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  reqs=$(awk '/requests in/ {print $1}' <<< "$out")
  awk -v r="$reqs" -v d="$dur" -v c=$((t1 - t0)) -v hz="$tck" \
    'BEGIN {printf "%.0f %.2f\n", r / d, c / hz * 1e6 / r}' >> "$tmp/$name"
}

for ((r = 0; r < runs; r++)); do
  for c in "${configs[@]}"; do one_run "${c%%|*}" "${c#*|}"; done
done

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
printf '%-20s %12s %14s\n' server "req/s" "CPU us/req"
for c in "${configs[@]}"; do
  n=${c%%|*}
  printf '%-20s %12s %14s\n' "$n" "$(cut -d' ' -f1 "$tmp/$n" | median)" "$(cut -d' ' -f2 "$tmp/$n" | median)"
done
