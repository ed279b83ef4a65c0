#!/usr/bin/env bash
# bench/ab.sh -- before/after: the C, Go and Rust hello servers of two
# versions of squall, measured side by side in ONE run of the shared harness.
#
#   bench/ab.sh [options] [BEFORE_REF [AFTER_REF | worktree]]
#
#   BEFORE_REF  a commit (default faa1102, the commit before the refactor)
#   AFTER_REF   a commit, or "worktree" (default): this checkout as it is on
#               disk, uncommitted changes included
#
# 1. A commit is checked out (detached) into bench/.build/ab/src-<sha>, a git
#    worktree that is kept and reused by later runs (--clean removes it).
# 2. Each side is built by THIS checkout's scripts (same flags for both):
#    bench/build.sh (squall Release + bench/servers/squall_hello.c),
#    bench/go/run.sh and bench/rust/run.sh in BENCH_LIST mode (the side's
#    bindings/go + bench/go, bindings/rust + bench/rust), with SQUALL_SRC
#    naming the side's tree, into bench/.build/ab/build-<sha|worktree>.
# 3. One run of the shared run.sh with every server twice, NAME@before and
#    NAME@after next to each other (which of the two goes first alternates
#    from server to server); each server pinned to CPU 0, wrk to CPU 1;
#    scenarios a (keep-alive), b (pipelined x16), c (connection per
#    request), e (bytes per idle connection); medians over RUNS runs.
# 4. bench/profile.sh -m 16 for the C hello server of each side: callgrind
#    instructions per pipelined request (noise-free).
# 5. bench/ab_table.py: before, after and after/before per server and scenario.
# Results: bench/results/<UTC>-ab-<before>-<after>[-TAG]/ (gitignored):
#   run/ (the harness' own output), instr-before/, instr-after/, ab-meta.txt,
#   ab.md (the table).
#
# Options:
#   -r RUNS          runs per scenario, median reported (default 3)
#   -d SECONDS       seconds per wrk run (default 5)
#   -s SCENARIOS     subset of abce (default abce)
#   -q               quick smoke test: -r 1 -d 2, 1 s warm-up, idle connections
#                    held 5 s, callgrind over 20,000 requests.  (The harness
#                    samples RSS 2 s after the idle connections are up: a
#                    --hold of 2 s or less closes them under the sample.)
#   -n N             requests for the callgrind figure (default 200000)
#   --no-instr       skip the callgrind figure
#   --servers LIST   subset of "c go-raw go-http rust rust-axum" (default all of
#                    them); also go-nethttp and rust-axum-inline
#   -p PORT          harness port (default 18086; profile.sh uses PORT+1)
#   -t TAG           suffix for the results directory
#   --max-other PCT  table: drop runs with more foreign CPU (see table.py)
#   --tolerance PCT  table: flag a figure worse by more than PCT % (default 3)
#   --clean          remove the checkouts and builds of commits afterwards
#   -- ARGS...       passed on to the shared run.sh (e.g. -- --idle 5000)
# Environment: SQUALL_SHARED_BENCH, BENCH_RESULTS, BENCH_WAIT_OTHERS (lib.sh),
# SQUALL_AB_DIR (instead of bench/.build/ab).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset SQUALL_SRC SQUALL_BENCH_BUILD SQUALL_BUILD_DIR # set per side below

runs=3 dur=5 scen=abce n=200000 instr=1 port=18086 tag= clean=
servers="c go-raw go-http rust rust-axum"
table_args=() harness_args=() refs=()
while [ $# -gt 0 ]; do
  case "$1" in
  -r) runs=$2; shift 2 ;;
  -d) dur=$2; shift 2 ;;
  -s) scen=$2; shift 2 ;;
  -q) runs=1 dur=2 n=20000; harness_args+=(--warmup 1 --hold 5); shift ;;
  -n) n=$2; shift 2 ;;
  --no-instr) instr=; shift ;;
  --servers) servers=$2; shift 2 ;;
  -p) port=$2; shift 2 ;;
  -t) tag=-$2; shift 2 ;;
  --max-other) table_args+=(--max-other "$2"); shift 2 ;;
  --tolerance) table_args+=(--tolerance "$2"); shift 2 ;;
  --clean) clean=1; shift ;;
  --) shift; harness_args+=("$@"); break ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "ab.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  *) refs+=("$1"); shift ;;
  esac
done
[ ${#refs[@]} -le 2 ] || { echo "ab.sh: at most two refs (--help)" >&2; exit 2; }
before_ref=${refs[0]:-faa1102}
after_ref=${refs[1]:-worktree}
command -v go >/dev/null || { echo "ab.sh: go not found (scripts/test.sh --deps-only installs it)" >&2; exit 1; }

ab=${SQUALL_AB_DIR:-$out/ab}
mkdir -p "$ab"
ab=$(cd "$ab" && pwd)

# Server keys -> the name each script gives the server.
declare -A go_key=([go-raw]=raw [go-http]=http [go-nethttp]=nethttp)
declare -A rust_name=([rust]=squall-rust [rust-axum]=squall-axum [rust-axum-inline]=squall-axum-inline)

# ---- 1. the two source trees
declare -A srcd buildd label sha
checkout() { # SIDE REF
  local side=$1 ref=$2 s
  if [ "$ref" = worktree ]; then
    srcd[$side]=$repo
    buildd[$side]=$ab/build-worktree
    sha[$side]=$(git -C "$repo" rev-parse HEAD)
    label[$side]="worktree at ${sha[$side]:0:9}"
    [ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] || label[$side]+=" + uncommitted changes"
    return 0
  fi
  s=$(git -C "$repo" rev-parse --verify --quiet "$ref^{commit}") || { echo "ab.sh: unknown commit $ref" >&2; exit 2; }
  sha[$side]=$s
  label[$side]="$ref (${s:0:9})"
  srcd[$side]=$ab/src-${s:0:12}
  buildd[$side]=$ab/build-${s:0:12}
  if [ ! -e "${srcd[$side]}/.git" ]; then
    git -C "$repo" worktree add --force --detach "${srcd[$side]}" "$s" >&2
  fi
  [ "$(git -C "${srcd[$side]}" rev-parse HEAD)" = "$s" ] ||
    { echo "ab.sh: ${srcd[$side]} is not at $s; remove it (git worktree remove)" >&2; exit 1; }
}
checkout before "$before_ref"
checkout after "$after_ref"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
res=${BENCH_RESULTS:-$here/results}/$stamp-ab-${sha[before]:0:7}-$([ "$after_ref" = worktree ] && echo worktree || echo "${sha[after]:0:7}")$tag
mkdir -p "$res"
res=$(cd "$res" && pwd)

# ---- 2. build each side; collect its servers as NAME|COMMAND lines
build_side() { # SIDE -> stdout: NAME|COMMAND
  local side=$1 k go_set= rust_set=
  export SQUALL_SRC=${srcd[$side]} SQUALL_BENCH_BUILD=${buildd[$side]}
  echo "=== building $side: ${label[$side]} (${srcd[$side]})" >&2
  SKIP_PEERS=1 "$here/build.sh" >&2
  for k in $servers; do
    case "$k" in
    c) echo "squall-c|${buildd[$side]}/squall_hello {PORT}" ;;
    go-*) go_set+=" ${go_key[$k]:?unknown server $k}" ;;
    rust*) rust_set+=" ${rust_name[$k]:?unknown server $k}" ;;
    *) echo "ab.sh: unknown server $k" >&2; exit 2 ;;
    esac
  done
  if [ -n "$go_set" ]; then
    SQUALL_BUILD_DIR=${buildd[$side]}/squall GO_BENCH_BIN=${buildd[$side]}/go GO_BENCH_PROCS=1 \
      GO_BENCH_SERVERS="$go_set" BENCH_LIST=1 "$here/go/run.sh"
  fi
  if [ -n "$rust_set" ]; then
    BENCH_RUST_ONLY="$rust_set" BENCH_LIST=1 "$here/rust/run.sh"
  fi
}
build_side before >"$res/servers-before.txt"
build_side after >"$res/servers-after.txt"

# ---- 3. one harness run, before and after of each server next to each other
custom=()
i=0
while IFS='|' read -r name cmd; do
  after_cmd=$(grep -m1 "^$name|" "$res/servers-after.txt" | cut -d'|' -f2-) ||
    { echo "ab.sh: $name missing on the after side" >&2; exit 1; }
  if [ $((i % 2)) = 0 ]; then
    custom+=(--custom "$name@before" "$cmd" --custom "$name@after" "$after_cmd")
  else
    custom+=(--custom "$name@after" "$after_cmd" --custom "$name@before" "$cmd")
  fi
  i=$((i + 1))
done <"$res/servers-before.txt"

{
  echo "before_ref=$before_ref"
  echo "before_sha=${sha[before]}"
  echo "before_label=${label[before]}"
  echo "after_ref=$after_ref"
  echo "after_sha=${sha[after]}"
  echo "after_label=${label[after]}"
  echo "command=bench/ab.sh -r $runs -d $dur -s $scen -n $n$([ -n "$instr" ] || echo ' --no-instr') $before_ref $after_ref${harness_args[*]:+ -- ${harness_args[*]}}"
  echo "instr=${instr:+h2load --h1 -n $n -c 50 -m 16 (bench/profile.sh)}"
} >"$res/ab-meta.txt"

export BENCH_BUILD=$ab/harness
ensure_idleconns "$BENCH_BUILD"
wait_others
"$shared/run.sh" -p "$port" -r "$runs" -d "$dur" -s "$scen" -o "$res/run" \
  "${harness_args[@]}" "${custom[@]}" >"$res/harness.log" 2>&1 ||
  echo "ab.sh: the harness exited with $? (see $res/harness.log)" >&2

# ---- 4. callgrind instructions per pipelined request, C hello server
if [ -n "$instr" ] && [[ " $servers " == *" c "* ]]; then
  for side in before after; do
    wait_others
    "$here/profile.sh" -n "$n" -m 16 -p $((port + 1)) -o "$res/instr-$side" \
      "squall-c@$side" "${buildd[$side]}/squall_hello {PORT}" >"$res/instr-$side.log" 2>&1 ||
      echo "ab.sh: profile.sh failed for $side (see $res/instr-$side.log)" >&2
  done
fi

# ---- 5. the table
/usr/bin/env python3 "$here/ab_table.py" "${table_args[@]}" "$res" | tee "$res/ab.md"
echo "results: $res" >&2

if [ -n "$clean" ]; then
  for side in before after; do
    [ "${srcd[$side]}" = "$repo" ] && continue
    git -C "$repo" worktree remove --force "${srcd[$side]}" 2>/dev/null || true
    rm -rf "${buildd[$side]}"
  done
fi
