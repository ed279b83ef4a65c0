#!/usr/bin/env bash
# bench/profile.sh -- callgrind profile of one server under a fixed load.
#
#   bench/profile.sh [-n N] [-m DEPTH] [-c CONNS] [-p PORT] [-o DIR] [NAME 'COMMAND {PORT}']
#
# Default server: squall_hello from bench/.build, built first by
# bench/build.sh (SKIP_BUILD=1: as it is).
# The server runs under valgrind --tool=callgrind on CPU 0; after 2,000
# warm-up requests the counters are zeroed, then
#   h2load --h1 -n N -c CONNS -m DEPTH   (DEPTH 1 = scenario a, 16 = scenario b)
# runs on CPU 1 and the counters are dumped.  Prints Ir/request and the top
# functions by self cost, with code inlined into a function counted in it
# (callgrind_annotate splits inlined lines by source file; they are summed
# here by function).  Keeps the callgrind file in DIR for kcachegrind /
# callgrind_annotate --inclusive=yes.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_build="${SQUALL_BENCH_BUILD:-$here/.build}"
n=200000; depth=16; conns=50; port=${BENCH_PROFILE_PORT:-18066}; dir=; top=25
while [ $# -gt 0 ]; do
  case "$1" in
  -n) n=$2; shift 2 ;;
  -m) depth=$2; shift 2 ;;
  -c) conns=$2; shift 2 ;;
  -p) port=$2; shift 2 ;;
  -o) dir=$2; shift 2 ;;
  -t) top=$2; shift 2 ;;
  -*) sed -n '2,15p' "$0"; exit 2 ;;
  *) break ;;
  esac
done
name=${1:-squall}
if [ -z "${2:-}" ] && [ -z "${SKIP_BUILD:-}" ]; then
  SKIP_PEERS=1 "$here/build.sh" >&2 # the default server, built from this tree (or SQUALL_SRC) now
fi
cmd=${2:-"$out_build/squall_hello {PORT}"}
cmd=${cmd//\{PORT\}/$port}
[ -n "$dir" ] || dir="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-profile-$name-m$depth"
mkdir -p "$dir"
tmp=$(mktemp -d)
url="http://127.0.0.1:$port/"
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
taskset -c 0 bash -c "exec valgrind --tool=callgrind --trace-children=yes --vgdb=yes \
  --vgdb-prefix=$tmp/vgdb --callgrind-out-file=$tmp/cg.%p --dump-instr=no $cmd" >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null)" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited (see $dir/server.log)" >&2; exit 1; }
  sleep 0.1
done
taskset -c 1 h2load --h1 -n 2000 -c "$conns" -m "$depth" "$url" >"$dir/h2load-warmup.txt" 2>&1
pids="$pid $(ps -o pid= --ppid "$pid" 2>/dev/null || true)"
for p in $pids; do callgrind_control --vgdb-prefix="$tmp/vgdb" -z "$p" >/dev/null 2>&1 || true; done
taskset -c 1 h2load --h1 -n "$n" -c "$conns" -m "$depth" "$url" >"$dir/h2load.txt" 2>&1
rm -f "$tmp"/cg.*
for p in $pids; do callgrind_control --vgdb-prefix="$tmp/vgdb" -d "$p" >/dev/null 2>&1 || true; done
sleep 1
ok=$(awk '/^requests:/{print $8; exit}' "$dir/h2load.txt")
for f in "$tmp"/cg.*.1; do
  [ -f "$f" ] || continue
  cp "$f" "$dir/callgrind.out.$name.$(basename "$f")"
  callgrind_annotate --auto=no --threshold=100 --inclusive=no "$f" >"$dir/annotate-self.txt" 2>/dev/null || true
  callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$f" >"$dir/annotate-inclusive.txt" 2>/dev/null || true
done
{
  echo "# $name: h2load --h1 -n $n -c $conns -m $depth ($ok succeeded)"
  /usr/bin/env python3 - "$dir/annotate-self.txt" "${ok:-0}" "$top" <<'PY'
import re, sys
path, ok, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total, agg, objs = None, {}, {}
for ln in open(path):
    m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", ln)
    if not m:
        continue
    ir, rest = int(m.group(1).replace(",", "")), m.group(2)
    if rest.startswith("PROGRAM TOTALS"):
        total = ir
        continue
    # "file:function [object]" -> function [object]
    m2 = re.match(r"(.*?) (\[[^\]]*\])$", rest)
    fn, obj = (m2.group(1), m2.group(2)) if m2 else (rest, "")
    if ":" in fn and not fn.startswith("???"):
        fn = fn.split(":", 1)[1] if not fn.startswith("(") else fn
    elif fn.startswith("???:"):
        fn = fn[4:]
    obj = obj.strip("[]").rsplit("/", 1)[-1]
    # a dump taken mid-run lists the frames still on the stack (main, the
    # loop) with the whole total as "self": skip them
    if total and ir >= 0.99 * total:
        continue
    agg[fn] = agg.get(fn, 0) + ir
    if obj:
        objs.setdefault(fn, obj)
if not total:
    sys.exit("no totals")
print("total Ir %d, Ir/request %.0f" % (total, total / ok if ok else float("nan")))
print()
print("| self Ir % | Ir/req | function | object |")
print("|---:|---:|---|---|")
for fn, ir in sorted(agg.items(), key=lambda kv: -kv[1])[:top]:
    obj = objs.get(fn, "")
    fn = re.sub(r"std::basic_string_view<char, std::char_traits<char> >", "string_view", fn)
    fn = re.sub(r"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "string", fn)
    print("| %.1f | %.0f | `%s` | %s |" % (ir * 100.0 / total, ir / ok if ok else 0, fn[:150], obj))
PY
} | tee "$dir/top.md"
