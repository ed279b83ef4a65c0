#!/usr/bin/env bash
# bench/scale/run.sh -- scale-out benchmark (issue 9, "Speed"): squall with
# 2 loops (threads) and 2 processes, in both balancing modes, beside nginx
# with 2 workers, h2o with 2 threads and Go net/http at GOMAXPROCS=2, and
# squall with 1 loop as the baseline, all in ONE run; nginx with 1 worker and
# h2o with 1 thread are there as controls (what going from 1 to 2 costs a
# mature server on this machine).
#
#   bench/scale/run.sh [-r RUNS] [-d SECONDS] [-s SCENARIOS] [SERVER...]
#
# The machine has 2 cores and wrk needs one, so wall-clock scaling cannot be
# shown; what is measured instead, per server and scenario:
#   * requests/s (wrk -t1 -c50, median of RUNS runs);
#   * server CPU per request: utime+stime summed over the server's process
#     tree (its process group: nginx master + workers, squall's prefork
#     parent + children, all threads) from /proc/<pid>/stat, read just before
#     and just after the measured wrk run, divided by wrk's request count;
#   * for squall, the share each loop / process served (squall_hello prints
#     per-loop counts at exit; they include the 1 s warm-up).
# Scenarios: a = keep-alive, c = a new connection per request
# (Connection: close), which is where accepting and handing off matter.
#
# Cores: SERVER_CPUS (default 0,1: servers unpinned over both cores) and
# CLIENT_CPUS (default 1: wrk on core 1).  Each run starts every server
# fresh, order a..c interleaved by run.  Results: bench/results/scale-<UTC>/
# (runs.tsv, logs; gitignored), then the table (bench/scale/table.py).
# Environment: BENCH_PORT (default 18094), SKIP_BUILD=1, BENCH_WAIT_OTHERS.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
scale="$here/scale"

runs=3 dur=5 scen="a c"
while getopts "r:d:s:" o; do
  case "$o" in
  r) runs=$OPTARG ;;
  d) dur=$OPTARG ;;
  s) scen=$(echo "$OPTARG" | sed 's/./& /g') ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [ -z "${SKIP_BUILD:-}" ]; then
  SKIP_PEERS=1 "$here/build.sh"
fi
out="$(cd "$out" && pwd)"
linked_libsquall "$out/squall_hello" >&2
mkdir -p "$out/scale"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -x "$out/scale/go_hello" ]; then
  (cd "$scale/go_hello" && GOCACHE="$out/scale/gocache" GOPATH="$out/scale/gopath" \
    GO111MODULE=off GOFLAGS= go build -trimpath -o "$out/scale/go_hello" main.go)
fi

hello="$out/squall_hello"
declare -A cmd=(
  [squall-1loop]="$hello {PORT}"
  [squall-2loops]="$hello --loops 2 {PORT}"
  [squall-2loops-rp]="$hello --loops 2 --reuse-port {PORT}"
  [squall-2procs]="$hello --processes 2 {PORT}"
  [squall-2procs-rp]="$hello --processes 2 --reuse-port {PORT}"
  [nginx-1w]="$scale/peer.sh nginx {PORT} 1"
  [nginx-2w]="$scale/peer.sh nginx {PORT} 2"
  [h2o-1t]="$scale/peer.sh h2o {PORT} 1"
  [h2o-2t]="$scale/peer.sh h2o {PORT} 2"
  [go-2]="env GOMAXPROCS=2 $out/scale/go_hello {PORT}"
)
order="squall-1loop squall-2loops squall-2loops-rp squall-2procs squall-2procs-rp nginx-1w nginx-2w h2o-1t h2o-2t go-2"
servers=${*:-$order}
for s in $servers; do [ -n "${cmd[$s]:-}" ] || { echo "unknown server $s (known: $order)" >&2; exit 2; }; done

port=${BENCH_PORT:-18094}
scpus=${SERVER_CPUS:-0,1}
ccpus=${CLIENT_CPUS:-1}
res="${BENCH_RESULTS:-$here/results}/scale-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$res"
export BENCH_TMPDIR
BENCH_TMPDIR=$(mktemp -d)
url="http://127.0.0.1:$port/"

# utime+stime (clock ticks) of every process in process group $1.
cputicks() {
  local f s sum=0
  for f in /proc/[0-9]*/stat; do
    { read -r s <"$f"; } 2>/dev/null || continue
    s=${s##*) } # after the command name, which may hold spaces
    set -- $s    # 1 = state, 3 = pgrp, 12 = utime, 13 = stime
    [ "$3" = "$pg" ] && sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

pid=
stop_server() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}
trap 'stop_server; rm -rf "$BENCH_TMPDIR"' EXIT

{
  echo "# $(date -u) host=$(hostname) nproc=$(nproc) servers on cpus $scpus, wrk -t1 -c50 on cpus $ccpus"
  echo "# runs=$runs duration=${dur}s scenarios=$scen; $(wrk -v 2>&1 | head -1); $(nginx -v 2>&1); $(h2o --version | head -1); $(go version)"
} | tee "$res/info.txt"
printf 'run\tscenario\tserver\trequests\tseconds\trps\tcpu_ticks\tclk_tck\terrors\tshares\n' >"$res/runs.tsv"

wait_others
for r in $(seq "$runs"); do
  for sc in $scen; do
    hdr=()
    [ "$sc" = c ] && hdr=(-H "Connection: close")
    for s in $servers; do
      log="$res/$s.$sc.$r.log"
      c=${cmd[$s]//\{PORT\}/$port}
      # shellcheck disable=SC2086
      setsid taskset -c "$scpus" $c 2>"$log" >/dev/null &
      pid=$!
      pg=$pid
      ok=
      for _ in $(seq 100); do
        curl -fs -o /dev/null "$url" && { ok=1; break; }
        sleep 0.05
      done
      [ -n "$ok" ] || { echo "$s did not start, see $log" >&2; stop_server; continue; }
      taskset -c "$ccpus" wrk -t1 -c50 -d1s "${hdr[@]}" "$url" >/dev/null 2>&1 || true
      t0=$(cputicks)
      w=$(taskset -c "$ccpus" wrk -t1 -c50 -d"${dur}s" --timeout 2s "${hdr[@]}" \
        -s "$shared/scripts/report.lua" "$url" 2>&1) || true
      t1=$(cputicks)
      stop_server
      line=$(echo "$w" | grep '^WRKRESULT' || true)
      [ -n "$line" ] || { echo "$s: wrk failed: $w" >&2; continue; }
      get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
      errs=$(($(get err_connect) + $(get err_read) + $(get err_write) + $(get err_status) + $(get err_timeout)))
      shares=$(sed -n 's/^squall_hello: served pid=\([0-9]*\) task=\(-\?[0-9]*\) loop=\([0-9]*\) requests=\([0-9]*\)$/t\2l\3:\4/p' "$log" | sort | paste -sd, -)
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$sc" "$s" "$(get requests)" \
        "$(awk -v u="$(get duration_us)" 'BEGIN{printf "%.3f", u/1e6}')" "$(get rps)" \
        $((t1 - t0)) "$(getconf CLK_TCK)" "$errs" "${shares:--}" | tee -a "$res/runs.tsv"
    done
  done
done
echo
python3 "$scale/table.py" "$res" | tee "$res/table.md"
