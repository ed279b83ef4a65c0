# bench/lib.sh -- sourced by the bench scripts (not run): where things are,
# and the helpers they share.  Sets
#   here    bench/ of this checkout          repo  its root
#   shared  the shared harness (../shared/bench from repo, or $SQUALL_SHARED_BENCH)
#   out     the bench build dir ($SQUALL_BENCH_BUILD, default bench/.build)
#   src     the source tree to build and measure ($SQUALL_SRC, default repo):
#           bench/ab.sh points it at a checkout of another commit, so that
#           both sides of a before/after comparison are built by the same
#           scripts with the same flags.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
shared="${SQUALL_SHARED_BENCH:-$repo/../shared/bench}"
[ -d "$shared" ] || { echo "shared harness not found at $shared (set SQUALL_SHARED_BENCH)" >&2; exit 1; }
shared="$(cd "$shared" && pwd)"
out="${SQUALL_BENCH_BUILD:-$here/.build}"
src="$(cd "${SQUALL_SRC:-$repo}" && pwd)"

# Another benchmark on this machine (the shared harness run by someone else,
# wrk, h2load) would share the two CPUs with ours and spoil both: wait for it
# to end first (bounded by BENCH_WAIT_OTHERS seconds, default 3600; 0 = don't).
wait_others() {
  local waited=0 limit=${BENCH_WAIT_OTHERS:-3600}
  while [ "$limit" -gt 0 ] && { pgrep -f "(shared/bench|$shared)/(run|instr)\.sh" >/dev/null || pgrep -x wrk >/dev/null || pgrep -x h2load >/dev/null; }; do
    [ "$waited" = 0 ] && echo "$(date -u +%H:%M:%S) another benchmark is running; waiting (up to ${limit}s)" >&2
    if [ "$waited" -ge "$limit" ]; then echo "still busy after ${waited}s; going ahead" >&2; break; fi
    sleep 10
    waited=$((waited + 10))
  done
  [ "$waited" -gt 0 ] && echo "$(date -u +%H:%M:%S) waited ${waited}s for other benchmarks" >&2
  return 0
}

# The harness' idle-connection client (scenario e) in DIR, compiled if missing.
ensure_idleconns() {
  mkdir -p "$1"
  [ -x "$1/idleconns" ] || ${CC:-cc} -O2 -o "$1/idleconns" "$shared/tools/idleconns.c"
}

# harness_rounds OUT ROUNDS PORT SECONDS SCENARIOS -- --custom NAME CMD...:
# call the shared run.sh ROUNDS times with -r 1 into OUT (one directory, so
# tools/summarize.py takes the median over rounds), the order of the
# --custom servers reversed every other round; then print the summary.
# Used by bench/node and bench/lua.
harness_rounds() {
  local dir=$1 rounds=$2 port=$3 dur=$4 scen=$5 r i
  shift 6
  local fwd=("$@") rev=()
  for ((i = ${#fwd[@]} - 3; i >= 0; i -= 3)); do rev+=("${fwd[@]:i:3}"); done
  mkdir -p "$dir"
  for r in $(seq 1 "$rounds"); do
    echo "=== round $r of $rounds" >&2
    local args=("${fwd[@]}")
    [ $((r % 2)) -eq 0 ] && args=("${rev[@]}")
    "$shared/run.sh" -p "$port" -r 1 -d "$dur" -s "$scen" -o "$dir" --quiet-wait "${BENCH_QUIET_WAIT:-60}" "${args[@]}" \
      >"$dir/round-$r.log" 2>&1 || { echo "round $r failed, see $dir/round-$r.log" >&2; return 1; }
  done
  python3 "$shared/tools/summarize.py" "$dir" | tee "$dir/summary-all.md"
}

# compare_setup "$@": the options of bench/node and bench/lua's compare.sh
# (-r ROUNDS, -d SECONDS, -s SCENARIOS into rounds, dur, scen) and the
# Release build of squall (bench/build.sh without the peers; SKIP_BUILD=1
# reuses bench/.build); makes $out absolute.
compare_setup() {
  rounds=3 dur=5 scen=ab
  local o OPTIND=1
  while getopts r:d:s: o; do
    case $o in
    r) rounds=$OPTARG ;; d) dur=$OPTARG ;; s) scen=$OPTARG ;; *) exit 2 ;;
    esac
  done
  [ -n "${SKIP_BUILD:-}" ] || SKIP_PEERS=1 "$here/build.sh" >&2
  out=$(cd "$out" && pwd)
}

# compare_ready --custom NAME CMD...: with BENCH_LIST set, print the servers
# as NAME|COMMAND lines and exit (bench/page.sh collects them); otherwise
# wait for other benchmarks and set up the harness' build and results dirs.
# Used by bench/node and bench/lua after compare_setup.
compare_ready() {
  local a=("$@") i
  if [ -n "${BENCH_LIST:-}" ]; then
    for ((i = 0; i < ${#a[@]}; i += 3)); do printf '%s|%s\n' "${a[i + 1]}" "${a[i + 2]}"; done
    exit 0
  fi
  wait_others
  export BENCH_BUILD="$out/peers" BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
  ensure_idleconns "$BENCH_BUILD"
}

# Stop the server a script started last (its PID in $pid) and forget it;
# safe to call twice (scripts call it between servers and in their EXIT trap).
stop() {
  if [ -n "${pid:-}" ]; then
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  fi
  pid=
  return 0
}

# libsquall_info FILE: "libsquall: PATH (build id ..., modified ...)" for a
# libsquall.so (symlinks resolved): which library a bench script measures.
libsquall_info() {
  local f id
  f=$(readlink -f "$1")
  id=$(readelf -n "$f" 2>/dev/null | awk '/Build ID/ {print $3; exit}')
  printf 'libsquall: %s (build id %s, modified %s)\n' "$f" "${id:-none}" \
    "$(date -u -r "$f" '+%Y-%m-%d %H:%M:%S UTC')"
}

# linked_libsquall FILE [VAR=VALUE...]: libsquall_info of the libsquall the
# dynamic loader gives an executable or module (ldd, with the environment
# given), or "libsquall: not linked (FILE)".
linked_libsquall() {
  local f=$1 l
  shift
  l=$(env "$@" ldd "$f" 2>/dev/null | awk '/libsquall/ {print $3; exit}')
  if [ -n "$l" ] && [ -e "$l" ]; then libsquall_info "$l"; else echo "libsquall: not linked ($f)"; fi
}

# mapped_libsquall PID: the libsquall a running process has mapped (path,
# build id, mtime), nothing if none.
mapped_libsquall() {
  local f
  f=$(awk '$6 ~ /libsquall[^\/]*\.so/ {print $6; exit}' "/proc/$1/maps" 2>/dev/null)
  [ -z "$f" ] || libsquall_info "$f" | sed 's/^libsquall: //'
}
