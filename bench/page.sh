#!/usr/bin/env bash
# bench/page.sh -- the benchmark page: every squall server (C, Go, Rust,
# Python, Node, Lua) beside the fastest peers of its language, hello world,
# in ONE run of the shared harness, then the tables and the chart.
#
#   bench/page.sh            full run (3 runs x 3 s of a, b, c per server; ~25 min)
#   bench/page.sh -q         quick check that it all works (1 run x 2 s; ~5 min once built)
#   bench/page.sh -r 5 -d 5  longer runs (on a quiet machine)
#
# 1. Build everything from the tree this script is in (or $SQUALL_SRC, see
#    lib.sh), every time: bench/build.sh (libsquall Release, the C hello
#    server, the harness' peers), then each sub-bench in its list mode
#    (BENCH_LIST=1: build, print NAME|COMMAND): go/run.sh, rust/run.sh,
#    python/run.sh, node/compare.sh, lua/compare.sh, all linked to that one
#    Release libsquall.  A peer that is not installed is reported with the
#    package that provides it and left out.
# 2. Start every squall server once and print which libsquall it maps
#    (/proc/PID/maps: path, build id, mtime); stop if one maps another.
# 3. One run of the shared run.sh: every server on CPU 0 (one loop, one
#    thread where it has a choice, GOMAXPROCS=1), wrk -t1 -c50 on CPU 1;
#    scenarios a keep-alive, b pipelined x16, c connection per request;
#    then e (bytes per idle keep-alive connection, 10,000 held) for the C
#    servers, and callgrind instructions per pipelined request
#    (profile.sh -m 16) for the C hello server.
# 4. bench/page_table.py: the tables (req/s, server CPU us per request =
#    utime+stime from /proc over the run / requests, ratios to the best peer
#    of the language, the bars of issue 13); bench/chart.py: the chart.
#
# Results: bench/results/<UTC>-page/ (gitignored): run/ (the harness' own
# output), servers.tsv, libsquall.txt, page.md (the tables), chart.svg.
# Unless -n: the tables replace the generated blocks of bench/README.md
# (between <!-- page:NAME --> and <!-- /page:NAME --> lines) and the chart
# is copied to bench/chart.svg.
#
# Options:
#   -q            quick: -r 1 -d 2, 1 s warm-up, no wait for a quiet machine,
#                 2,000 idle connections held 5 s, callgrind over 20,000 requests
#   -r RUNS       runs per scenario and server, median reported (default 3)
#   -d SECONDS    seconds per wrk run (default 3)
#   -l LANGS      subset of "c go rust python node lua" (default all)
#   -p PORT       harness port (default 18088; profile.sh uses PORT+1)
#   -n            do not touch bench/README.md and bench/chart.svg
#   --no-instr    skip the callgrind figure
#   --no-idle     skip scenario e
#   --list        build, check which libsquall each server maps, print the
#                 servers (and the peers not installed), measure nothing
#   -- ARGS...    passed on to the shared run.sh (e.g. -- --quiet-wait 60)
# Environment: SQUALL_SRC, SQUALL_BENCH_BUILD, SQUALL_SHARED_BENCH,
# BENCH_RESULTS, BENCH_WAIT_OTHERS (lib.sh), PAGE_QUIET_WAIT (seconds the
# harness waits for a quiet machine before each of the 225 runs, default 3,
# so a busy machine adds at most ~11 min; what the rest of the machine used
# during each run is recorded either way and shown as "other CPU %").
# Before the harness, page.sh waits for other benchmarks to end
# (BENCH_WAIT_OTHERS seconds, default 3600; 0 = don't).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=3 dur=3 langs="c go rust python node lua" port=18088 write=1 instr=1 idle=1
n=200000 idle_n=10000 hold=10 warmup=2 quick= list_only=
harness_args=()
while [ $# -gt 0 ]; do
  case "$1" in
  -q) runs=1 dur=2 n=20000 idle_n=2000 hold=5 warmup=1 quick=1; shift ;;
  -r) runs=$2; shift 2 ;;
  -d) dur=$2; shift 2 ;;
  -l) langs=$2; shift 2 ;;
  -p) port=$2; shift 2 ;;
  -n) write=; shift ;;
  --no-instr) instr=; shift ;;
  --no-idle) idle=; shift ;;
  --list) list_only=1; shift ;;
  --) shift; harness_args+=("$@"); break ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "page.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done
has_lang() { [[ " $langs " == *" $1 "* ]]; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
res=${BENCH_RESULTS:-$here/results}/$stamp-page
mkdir -p "$res"
res=$(cd "$res" && pwd)
log=$res/build.log
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$res/page.log" >&2; }
missing() { say "MISSING $1: $2 -- measuring without it"; printf '%s\t%s\n' "$1" "$2" >>"$res/missing.tsv"; }

# ---- 1. build
say "building from $src (log: $log)"
"$here/build.sh" >>"$log" 2>&1 || { say "bench/build.sh failed, see $log"; exit 1; }
out=$(cd "$out" && pwd)
lib=$out/squall/libsquall.so
libsquall_info "$lib" | tee "$res/libsquall.txt" >&2

# servers.tsv: group, name (in the harness), label, role (squall / peer / floor), command
: >"$res/servers.tsv"
add() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$res/servers.tsv"; }

if has_lang c; then
  add c squall-c "squall (C API)" squall "$out/squall_hello {PORT}"
  [ -x "$out/peers/limit_hello" ] && add c limit "floor (limit)" floor "$out/peers/limit_hello {PORT}"
  if command -v nginx >/dev/null; then add c nginx "nginx" peer "$shared/servers/nginx.sh {PORT}"; else missing nginx "apt-get install nginx-light"; fi
  if [ -x "$out/peers/h2o_hello" ]; then add c h2o "h2o (libh2o)" peer "$out/peers/h2o_hello {PORT}"; else missing h2o "apt-get install libh2o-evloop-dev"; fi
  if [ -x "$out/peers/libevent_hello" ]; then add c libevent "libevent evhttp" peer "$out/peers/libevent_hello {PORT}"; else missing evhttp "apt-get install libevent-dev"; fi
  if [ -x "$out/peers/mhd_hello" ]; then add c mhd "libmicrohttpd" peer "$out/peers/mhd_hello {PORT}"; else missing libmicrohttpd "apt-get install libmicrohttpd-dev"; fi
fi

# list LOGNAME CMD...: run a sub-bench in BENCH_LIST mode, NAME|COMMAND lines on stdout.
list() {
  local what=$1
  shift
  say "building $what"
  if ! env BENCH_LIST=1 SQUALL_BUILD_DIR="$out/squall" SQUALL_BENCH_BUILD="$out" SKIP_BUILD=1 "$@" \
    >"$res/list-$what.txt" 2>>"$log"; then
    say "$what: the build failed (see $log); measuring without it"
    : >"$res/list-$what.txt"
  fi
}
cmd_of() { grep -m1 "^$2|" "$res/list-$1.txt" | cut -d'|' -f2-; }
add_listed() { # GROUP LISTNAME NAME LABEL ROLE [missing-hint]
  local c
  c=$(cmd_of "$2" "$3") || true
  if [ -n "$c" ]; then add "$1" "$3" "$4" "$5" "$c"; else missing "$4" "${6:-see $log}"; fi
}

if has_lang go; then
  list go env GO_BENCH_BIN="$out/go" GO_BENCH_PROCS=1 "$here/go/run.sh"
  add_listed go go go-squall-raw-p1 "squall raw API" squall
  add_listed go go go-squall-http-p1 "squall net/http adapter" squall
  add_listed go go go-fasthttp-p1 "fasthttp" peer "go modules (bench/go/peers): see $log"
  add_listed go go go-nethttp-p1 "net/http" peer
fi
if has_lang rust; then
  list rust env BENCH_RUST_ONLY="squall-rust squall-axum hyper axum" "$here/rust/run.sh"
  add_listed rust rust squall-rust "squall closure API" squall
  add_listed rust rust squall-axum "axum on squall (adapter)" squall
  add_listed rust rust axum "axum (tokio current-thread)" peer "cargo (bench/rust): see $log"
  add_listed rust rust hyper "hyper (tokio current-thread)" peer "cargo (bench/rust): see $log"
fi
if has_lang python; then
  list python env PY_BENCH_SERVERS="squall-native squall-wsgi squall-asgi bjoern granian-wsgi granian-asgi uvicorn" \
    "$here/python/run.sh"
  venv=$here/python/.venv/bin/python
  add_listed python python squall-native "squall native API" squall
  add_listed python python squall-wsgi "squall WSGI" squall
  add_listed python python squall-asgi "squall ASGI" squall
  pyhas() { [ -x "$venv" ] && "$venv" -c "import $1" 2>/dev/null; }
  if pyhas bjoern; then add_listed python python bjoern "bjoern (WSGI)" peer; else missing bjoern "pip install bjoern into bench/python/.venv (needs apt-get install libev-dev)"; fi
  if pyhas granian; then
    add_listed python python granian-wsgi "granian WSGI" peer
    add_listed python python granian-asgi "granian ASGI" peer
  else missing granian "pip install granian into bench/python/.venv"; fi
  if pyhas uvicorn; then add_listed python python uvicorn "uvicorn (uvloop, httptools)" peer; else missing uvicorn "pip install 'uvicorn[standard]' into bench/python/.venv"; fi
fi
if has_lang node; then
  list node "$here/node/compare.sh"
  add_listed node node node-squall-koffi "squall (koffi)" squall "cd bindings/node && npm ci"
  add_listed node node node-http "node:http" peer "apt-get install nodejs"
fi
if has_lang lua; then
  list lua "$here/lua/compare.sh"
  add_listed lua lua lua-squall "squall (coroutines)" squall "apt-get install lua5.4 liblua5.4-dev luarocks swig"
  add_listed lua lua lua-http "lua-http (cqueues)" peer "apt-get install lua-http"
fi

# ---- 2. which libsquall each squall server maps (a server that maps
# another copy would measure another tree: stop here)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
stale=
while IFS=$'\t' read -r group name label role cmd; do
  [ "$role" = squall ] || continue
  c=${cmd//\{PORT\}/$port}
  bash -c "exec $c" </dev/null >"$res/preflight-$name.log" 2>&1 &
  pid=$!
  got=
  for _ in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null)" = 200 ] && { got=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  mapped=$(mapped_libsquall "$pid")
  stop
  if [ -z "$got" ]; then
    say "$name did not answer (see $res/preflight-$name.log)"
    continue
  fi
  printf '%s: %s\n' "$name" "${mapped:-no libsquall mapped}" >>"$res/libsquall.txt"
  say "$name maps ${mapped:-no libsquall}"
  case "$mapped" in "$(readlink -f "$lib")"*) ;; *) stale+=" $name" ;; esac
done <"$res/servers.tsv"
if [ -n "$stale" ]; then
  say "these servers do not map $(readlink -f "$lib"):$stale -- stale build? (see $res/libsquall.txt)"
  exit 1
fi

if [ -n "$list_only" ]; then
  cut -f1-4 "$res/servers.tsv"
  [ ! -s "$res/missing.tsv" ] || sed 's/^/missing: /' "$res/missing.tsv"
  exit 0
fi

# ---- 3. one harness run
custom=()
while IFS=$'\t' read -r group name label role cmd; do custom+=(--custom "$name" "$cmd"); done <"$res/servers.tsv"
{
  echo "command: bench/page.sh -r $runs -d $dur -l '$langs'${harness_args[*]:+ -- ${harness_args[*]}}"
  echo "tree: $(git -C "$src" rev-parse --short HEAD)$([ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ] || echo ' + uncommitted changes')"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "loadavg: $(cat /proc/loadavg)"
} >"$res/meta.txt"
export BENCH_BUILD=$out/peers
ensure_idleconns "$BENCH_BUILD"
wait_others
say "harness: ${#custom[@]} args, $((${#custom[@]} / 3)) servers, -r $runs -d $dur -s abc"
quiet=(--quiet-wait "${PAGE_QUIET_WAIT:-3}")
[ -z "$quick" ] || quiet=(--quiet-max 0)
"$shared/run.sh" -p "$port" -r "$runs" -d "$dur" -s abc --warmup "$warmup" -o "$res/run" \
  "${quiet[@]}" "${harness_args[@]}" "${custom[@]}" >"$res/harness.log" 2>&1 ||
  say "the harness exited with $? (see $res/harness.log)"

if [ -n "$idle" ] && has_lang c; then
  mem=()
  for s in squall-c nginx h2o limit; do
    c=$(awk -F'\t' -v n="$s" '$2 == n {print $5}' "$res/servers.tsv")
    [ -z "$c" ] || mem+=(--custom "$s" "$c")
  done
  say "idle connections: $idle_n held ${hold}s"
  "$shared/run.sh" -p "$port" -s e --idle "$idle_n" --hold "$hold" -o "$res/run" "${mem[@]}" \
    >"$res/harness-e.log" 2>&1 || say "scenario e exited with $? (see $res/harness-e.log)"
fi
if [ -n "$instr" ] && has_lang c; then
  # (instruction counts: no need to wait for the machine to be quiet)
  say "callgrind: $n pipelined requests (x16) to the C hello server"
  "$here/profile.sh" -n "$n" -m 16 -p $((port + 1)) -o "$res/instr-m16" squall-c "$out/squall_hello {PORT}" \
    >"$res/instr.log" 2>&1 || say "profile.sh failed (see $res/instr.log)"
fi
echo "loadavg at end: $(cat /proc/loadavg)" >>"$res/meta.txt"

# ---- 4. tables and chart
# A python3 with matplotlib: Debian's (python3-matplotlib), else a virtualenv
# of our own under bench/.build with matplotlib from PyPI.
chart_python() {
  local p
  for p in /usr/bin/python3 "$out/chart-venv/bin/python"; do
    [ -x "$p" ] && "$p" -c 'import matplotlib' 2>/dev/null && { echo "$p"; return 0; }
  done
  { python3 -m venv "$out/chart-venv" && "$out/chart-venv/bin/pip" install -q --disable-pip-version-check matplotlib; } >>"$log" 2>&1 &&
    echo "$out/chart-venv/bin/python"
}
python3 "$here/page_table.py" "$res" >"$res/page.md"
cat "$res/page.md"
chart_py=$(chart_python) && "$chart_py" "$here/chart.py" "$res" -o "$res/chart.svg" ||
  say "no chart: matplotlib is missing (apt-get install python3-matplotlib, or pip install matplotlib)"
if [ -n "$write" ]; then
  python3 "$here/page_table.py" --readme "$here/README.md" "$res"
  [ -f "$res/chart.svg" ] && cp "$res/chart.svg" "$here/chart.svg"
  say "bench/README.md and bench/chart.svg updated"
fi
say "results: $res"
