#!/usr/bin/env bash
# bench/tls/run.sh -- HTTPS hello-world: squall beside nginx (1 worker) and
# h2o's library (h2o_tls_hello.c), one loop each, in one run, with the same
# certificate (ECDSA P-256 and RSA-2048, made by tests/util/make_certs.sh)
# and TLS 1.3 (what wrk, h2load and idletls negotiate with OpenSSL 3).
#
#   bench/tls/run.sh                 every server, both keys, every scenario
#   SERVERS="squall nginx" KEYS=ecdsa SCENARIOS="ka hs" bench/tls/run.sh
#
# Scenarios (server on CPU 0, client on CPU 1, medians of RUNS runs):
#   ka    keep-alive        wrk -t1 -c50 -dDUR https://127.0.0.1:PORT/
#   pipe  pipelined x16     h2load --h1 -m16 -c50 -t1 -D DUR
#   hs    full handshakes   wrk ... -H 'Connection: close' (a new connection
#                           and a full handshake per request: every server
#                           runs without session cache and tickets here)
#   idle  bytes per idle TLS keep-alive connection: RSS of a fresh server
#         before and after idletls holds IDLE connections (one request each)
# Prints a markdown table (req/s, server CPU us/request, ratios to nginx);
# raw lines go to bench/.build/tls/results-<time>.tsv.
# Environment: RUNS (3), DUR (5), CONNS (50), IDLE (10000), PORT (18443).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
RUNS=${RUNS:-3} DUR=${DUR:-5} CONNS=${CONNS:-50} IDLE=${IDLE:-10000} PORT=${PORT:-18443}
SERVERS=${SERVERS:-"squall nginx h2o"} KEYS=${KEYS:-"ecdsa rsa"}
SCENARIOS=${SCENARIOS:-"ka pipe hs idle"}
for tool in wrk h2load nginx taskset curl; do
  command -v $tool > /dev/null || {
    echo "bench/tls: $tool is missing (Debian: wrk nghttp2-client nginx-light util-linux curl)" >&2
    exit 1
  }
done

SKIP_PEERS=1 "$here/build.sh" > /dev/null
linked_libsquall "$out/squall_hello" >&2
mkdir -p "$out/tls"
cc -O2 -Wall -o "$out/tls/idletls" "$here/tls/idletls.c" -lssl -lcrypto
pkg-config --exists libh2o-evloop || {
  echo "bench/tls: h2o's library is missing (Debian: libh2o-evloop-dev)" >&2
  exit 1
}
cc -O2 -DH2O_USE_LIBUV=0 -o "$out/tls/h2o_tls_hello" "$here/tls/h2o_tls_hello.c" \
  $(pkg-config --cflags --libs libh2o-evloop) -lssl -lcrypto
tmp=$(mktemp -d)
pid=
trap 'stop; rm -rf "$tmp"' EXIT
bash "$repo/tests/util/make_certs.sh" "$tmp/certs"
results="$out/tls/results-$(date -u +%Y%m%dT%H%M%S).tsv"
printf 'server\tkey\tscenario\trun\trps\tcpu_us_per_req\n' > "$results"

cert_of() { [ "$1" = rsa ] && echo "$tmp/certs/rsa" || echo "$tmp/certs/server"; }

nginx_conf() { # key -> prefix dir
  local p="$tmp/nginx.$1" c
  c=$(cert_of "$1")
  mkdir -p "$p/logs" "$p/tmp"
  cat > "$p/nginx.conf" << CONF
worker_processes 1;
user $(id -un) $(id -gn);
worker_rlimit_nofile 30000;
daemon off;
pid $p/nginx.pid;
error_log $p/logs/error.log warn;
events { worker_connections 20000; use epoll; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $p/tmp/body;
  proxy_temp_path $p/tmp/proxy;
  fastcgi_temp_path $p/tmp/fastcgi;
  uwsgi_temp_path $p/tmp/uwsgi;
  scgi_temp_path $p/tmp/scgi;
  server {
    listen 127.0.0.1:$PORT ssl backlog=4096;
    ssl_certificate $c.pem;
    ssl_certificate_key $c.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { default_type text/plain; return 200 "Hello, world!\n"; }
  }
}
CONF
  echo "$p"
}

start() { # server key
  local c
  c=$(cert_of "$2")
  ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
  case $1 in
    squall) taskset -c 0 "$out/squall_hello" "$PORT" "$c.pem" "$c.key" 0 2> /dev/null & ;;
    h2o) taskset -c 0 "$out/tls/h2o_tls_hello" "$PORT" "$c.pem" "$c.key" 0 & ;;
    nginx)
      local p
      p=$(nginx_conf "$2")
      taskset -c 0 nginx -p "$p" -c "$p/nginx.conf" -e "$p/logs/error.log" &
      ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    curl -fsk -o /dev/null "https://127.0.0.1:$PORT/" && return 0
    sleep 0.05
  done
  echo "bench/tls: $1 did not start" >&2
  exit 1
}

# utime+stime in microseconds over the server's process tree.
cpu_us() {
  local t=0 p
  for p in $pid $(pgrep -P "$pid" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $((t * 1000000 / $(getconf CLK_TCK)))
}
rss_kb() {
  local t=0 p
  for p in $pid $(pgrep -P "$pid" || true); do
    t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
  done
  echo $t
}

measure() { # server key scenario run
  local c0 c1 n rps url="https://127.0.0.1:$PORT/" o
  c0=$(cpu_us)
  case $3 in
    ka)
      o=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" "$url")
      n=$(awk '/requests in/ {print $1}' <<< "$o")
      ;;
    hs)
      o=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" -H 'Connection: close' "$url")
      n=$(awk '/requests in/ {print $1}' <<< "$o")
      ;;
    pipe)
      o=$(taskset -c 1 h2load --h1 -m16 -c"$CONNS" -t1 -D "$DUR" "$url" 2>&1)
      n=$(awk '/^requests:/ {print $8}' <<< "$o")
      ;;
  esac
  c1=$(cpu_us)
  rps=$(awk -v n="$n" -v d="$DUR" 'BEGIN {printf "%.0f", n / d}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$rps" \
    "$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.2f", n ? c / n : 0}')" >> "$results"
}

idle() { # server key: bytes per idle connection
  local before after
  start "$1" "$2"
  sleep 1
  before=$(rss_kb)
  taskset -c 1 "$out/tls/idletls" 127.0.0.1 "$PORT" "$IDLE" 30 > "$tmp/idle.out" &
  local ipid=$!
  for _ in $(seq 600); do
    grep -q established "$tmp/idle.out" && break
    sleep 0.1
  done
  if ! grep -q established "$tmp/idle.out"; then
    echo "bench/tls: idletls did not hold $IDLE connections to $1; no idle figure" >&2
    kill "$ipid" 2> /dev/null
    stop
    return 0
  fi
  sleep 2
  after=$(rss_kb)
  kill "$ipid" 2> /dev/null
  wait "$ipid" 2> /dev/null || true
  stop
  printf '%s\t%s\tidle\t1\t%s\t\n' "$1" "$2" $(((after - before) * 1024 / IDLE)) >> "$results"
}

wait_others
for key in $KEYS; do
  for s in $SERVERS; do
    timed=$(echo " $SCENARIOS " | sed 's/ idle / /')
    if [ -n "${timed// /}" ]; then
      start "$s" "$key"
      taskset -c 1 wrk -t1 -c"$CONNS" -d2s "https://127.0.0.1:$PORT/" > /dev/null # warm-up
      for r in $(seq "$RUNS"); do
        for sc in $timed; do measure "$s" "$key" "$sc" "$r"; done
      done
      stop
    fi
    case " $SCENARIOS " in *" idle "*) idle "$s" "$key" ;; esac
  done
done
echo "raw: $results"
python3 - "$results" << 'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for r in rows:
    med.setdefault((r["key"], r["scenario"], r["server"]), []).append(r)
names = {"ka": "keep-alive req/s", "pipe": "pipelined x16 req/s",
         "hs": "full handshakes/s", "idle": "bytes per idle TLS connection"}
servers = []
for r in rows:
    if r["server"] not in servers:
        servers.append(r["server"])
print("| key | measure | " + " | ".join(servers) + " | squall/nginx |")
print("|---|---|" + "---:|" * (len(servers) + 1))
for key in ("ecdsa", "rsa"):
    for sc in ("ka", "pipe", "hs", "idle"):
        vals = {}
        for s in servers:
            rs = med.get((key, sc, s))
            if not rs:
                continue
            v = statistics.median(float(x["rps"]) for x in rs)
            cpu = [float(x["cpu_us_per_req"]) for x in rs if x["cpu_us_per_req"]]
            vals[s] = (v, statistics.median(cpu) if cpu else None)
        if not vals:
            continue
        cells = []
        for s in servers:
            if s not in vals:
                cells.append("")
                continue
            v, c = vals[s]
            cells.append("%s%s" % (format(int(v), ","), " (%.1f us)" % c if c else ""))
        ratio = ""
        if "squall" in vals and "nginx" in vals and vals["nginx"][0]:
            ratio = "%.2f" % (vals["squall"][0] / vals["nginx"][0])
        print("| %s | %s | %s | %s |" % (key, names[sc], " | ".join(cells), ratio))
PY
