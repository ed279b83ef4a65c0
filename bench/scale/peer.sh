#!/usr/bin/env bash
# bench/scale/peer.sh -- nginx or h2o hello-world with N workers / threads,
# for bench/scale/run.sh (the shared harness' nginx.sh and h2o_bin.sh run 1).
#   peer.sh nginx PORT N     worker_processes N, `return 200 "Hello, world!\n"`
#   peer.sh h2o PORT N       h2o binary, num-threads: N, one static 14-byte file
# Config and prefix in a fresh directory under $BENCH_TMPDIR (or mktemp -d);
# exec's the server in the foreground, so this script's PID is the server's
# (nginx: the master; SIGTERM stops master and workers).  nginx keeps its
# temp directories in that prefix (-p).
set -euo pipefail
what=${1:?usage: peer.sh nginx|h2o PORT N}
port=${2:?port}
n=${3:?count}
P=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/scale-$what.XXXXXX")
mkdir -p "$P/logs" "$P/tmp" "$P/htdocs"
chmod 755 "$P" "$P/htdocs"
case "$what" in
nginx)
  cat >"$P/nginx.conf" <<CONF
worker_processes $n;
user $(id -un) $(id -gn);
worker_rlimit_nofile 20000;
daemon off;
pid $P/nginx.pid;
error_log $P/logs/error.log warn;
events { worker_connections 16384; use epoll; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$port backlog=1024;
    location / { default_type text/plain; return 200 "Hello, world!\n"; }
  }
}
CONF
  exec nginx -p "$P" -c "$P/nginx.conf" -e "$P/logs/error.log"
  ;;
h2o)
  printf 'Hello, world!\n' >"$P/htdocs/index.txt"
  cat >"$P/h2o.conf" <<CONF
num-threads: $n
max-connections: 20000
user: $(id -un)
pid-file: $P/h2o.pid
error-log: $P/logs/error.log
temp-buffer-path: $P/tmp
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /:
        file.dir: $P/htdocs
        file.index: ['index.txt']
CONF
  exec h2o -c "$P/h2o.conf"
  ;;
*)
  echo "peer.sh: unknown server $what" >&2
  exit 2
  ;;
esac
