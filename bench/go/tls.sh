#!/usr/bin/env bash
# bench/go/tls.sh -- HTTPS hello-world of the Go binding beside Go's own
# net/http + crypto/tls, in one run, same certificate (ECDSA P-256 from
# tests/util/make_certs.sh), TLS 1.3 (what wrk negotiates with OpenSSL 3):
#
#   go-squall-raw   the binding's low-level API       (bench/go/raw)
#   go-squall-http  the net/http.Handler adapter      (bench/go/adapter)
#   go-nethttp      net/http + crypto/tls, HTTP/1.1   (bench/go/peers/nethttp)
#
# GOMAXPROCS=1, server on CPU 0 and wrk on CPU 1.  Scenarios:
#   ka  keep-alive       wrk -t1 -cCONNS -dDUR https://127.0.0.1:PORT/
#   hs  full handshakes  the same with 'Connection: close' (a new connection
#                        and a full handshake per request; tickets off)
# Prints a markdown table of medians of RUNS runs (req/s, server CPU
# microseconds per request, ratio to net/http).
# Environment: RUNS (3), DUR (5), CONNS (50), PORT (18444), SERVERS
# ("raw http nethttp"), SCENARIOS ("ka hs"), SQUALL_BUILD_DIR.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$here/go
RUNS=${RUNS:-3} DUR=${DUR:-5} CONNS=${CONNS:-50} PORT=${PORT:-18444}
SERVERS=${SERVERS:-"raw http nethttp"} SCENARIOS=${SCENARIOS:-"ka hs"}
for tool in wrk taskset curl go; do
  command -v $tool > /dev/null || { echo "bench/go/tls.sh: $tool is missing" >&2; exit 1; }
done
build=$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)
[ -e "$build/libsquall.so" ] || { echo "tls.sh: $build/libsquall.so not found" >&2; exit 1; }

bin=${GO_BENCH_BIN:-$here/bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
# squall.pc for this build tree, Go's build cache keyed on it (buildtree.sh)
. "$repo/bindings/go/buildtree.sh"
squall_go_buildtree "$bin" "$build" "$src"
(cd "$src/bench/go" && go build -o "$bin/raw" ./raw && go build -o "$bin/http" ./adapter)
squall_go_check "$bin/raw" "$build"
squall_go_check "$bin/http" "$build"
(cd "$src/bench/go/peers" && go build -o "$bin/nethttp" ./nethttp)

tmp=$(mktemp -d)
pid=
trap 'stop; rm -rf "$tmp"' EXIT
bash "$repo/tests/util/make_certs.sh" "$tmp/certs"

start() { # server tickets(0/1)
  GOMAXPROCS=1 taskset -c 0 "$bin/$1" "$PORT" "$tmp/certs/server.pem" "$tmp/certs/server.key" "$2" 2> /dev/null &
  pid=$!
  for _ in $(seq 200); do
    curl -fs --cacert "$tmp/certs/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/" && return 0
    sleep 0.05 # the server is starting; no readiness signal but the port
  done
  echo "bench/go/tls.sh: $1 did not start" >&2
  exit 1
}
cpu_us() { awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000000 / t)}' "/proc/$pid/stat"; }

wait_others
declare -A rps cpu
for sc in $SCENARIOS; do
  hdr=()
  tickets=1
  [ "$sc" = hs ] && hdr=(-H "Connection: close") && tickets=0
  for run in $(seq "$RUNS"); do
    for s in $SERVERS; do
      start "$s" "$tickets"
      c0=$(cpu_us)
      out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "${hdr[@]}" "https://127.0.0.1:$PORT/")
      c1=$(cpu_us)
      stop
      r=$(awk '/^Requests\/sec/ {print $2}' <<< "$out")
      n=$(awk '/requests in/ {print $1}' <<< "$out")
      rps[$sc,$s]+="$r "
      cpu[$sc,$s]+="$(((c1 - c0) / (n > 0 ? n : 1))) "
      printf '%s\t%s\trun %s\t%s req/s\n' "$sc" "$s" "$run" "$r" >&2
    done
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -A label=([raw]=go-squall-raw [http]=go-squall-http [nethttp]=go-nethttp)
declare -A what=([ka]="keep-alive" [hs]="full handshakes")
echo
echo "| scenario | server | req/s (median of $RUNS) | server CPU us/req | vs net/http |"
echo "|---|---|---:|---:|---:|"
for sc in $SCENARIOS; do
  base=$(median <<< "${rps[$sc,nethttp]:-}")
  for s in $SERVERS; do
    m=$(median <<< "${rps[$sc,$s]}")
    c=$(median <<< "${cpu[$sc,$s]}")
    ratio=$(awk -v a="$m" -v b="${base:-0}" 'BEGIN {print (b > 0) ? sprintf("%.2fx", a / b) : "-"}')
    echo "| ${what[$sc]} | ${label[$s]} | $m | $c | $ratio |"
  done
done
