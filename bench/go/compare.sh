#!/usr/bin/env bash
# Before/after benchmark of the Go binding in ONE run of the shared harness:
# the raw API and the net/http adapter built from another squall tree
# (BEFORE, with its own build) and from this one, next to Go's net/http and
# fasthttp, all at GOMAXPROCS=1 (or $GO_BENCH_PROCS).  More trees may follow
# (named by their commit in the tables), e.g. to tell a library change from
# a binding change.
#
#   bench/go/compare.sh [-r ROUNDS] [-d SECONDS] [-s SCENARIOS] [-i N]
#                       BEFORE_TREE [TREE...]
#
# BEFORE_TREE is a squall checkout built with its own build/ directory, e.g.
#   git worktree add ../squall-before faa1102
#   (cd ../squall-before && SQUALL_BINDINGS=ON scripts/test.sh --build-only)
#   bench/go/compare.sh ../squall-before
#
# The harness is called ROUNDS times (default 3) with -r 1 into one results
# directory, so every server is measured once per round and the servers
# alternate (the before/after order flips each round): the medians over the
# rounds compare figures taken side by side on a shared, noisy machine.
# Default scenarios: ab (keep-alive, pipelined x16), 5 s each.
#
# -i N adds the harness' noise-free figure for the same binaries:
# instr.sh, callgrind instructions per request over N requests (user space,
# all threads), keep-alive (-m 1) and pipelined (-m 16).
#
#   SQUALL_BUILD_DIR     this tree's build (default ../../build)
#   SQUALL_SHARED_BENCH  the shared harness directory (see run.sh)
#   GO_BENCH_PROCS       GOMAXPROCS values (default 1)
#   GO_BENCH_PORT        harness port (default 18047)
set -euo pipefail

rounds=3 dur=5 scen=ab instr=
while getopts r:d:s:i: o; do
  case $o in
  r) rounds=$OPTARG ;;
  d) dur=$OPTARG ;;
  s) scen=$OPTARG ;;
  i) instr=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r ROUNDS] [-d SECONDS] [-s SCENARIOS] [-i N] BEFORE_TREE [TREE...]" >&2; exit 2; }
args_in=("$@")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
before=$(cd "$1" && pwd)
shift
declare -A tree=([before]=$before [after]=$repo)
sides=(before after)
for t in "$@"; do
  t=$(cd "$t" && pwd)
  [ -e "$t/build/libsquall.so" ] || { echo "compare.sh: $t/build/libsquall.so not found (build it first)" >&2; exit 1; }
  s=$(git -C "$t" rev-parse --short HEAD)
  tree[$s]=$t
  sides+=("$s")
done
build=$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)
shared=${SQUALL_SHARED_BENCH:-$repo/../shared/bench}
[ -x "$shared/run.sh" ] || { echo "compare.sh: shared harness not found at $shared (set SQUALL_SHARED_BENCH)" >&2; exit 1; }
shared=$(cd "$shared" && pwd)
for t in "$repo" "$before"; do
  [ -e "$t/build/libsquall.so" ] || [ "$t" = "$repo" ] ||
    { echo "compare.sh: $t/build/libsquall.so not found (build it first)" >&2; exit 1; }
done
[ -e "$build/libsquall.so" ] || { echo "compare.sh: $build/libsquall.so not found" >&2; exit 1; }

export BENCH_BUILD=${BENCH_BUILD:-$here/.harness-build}
export BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
if [ ! -x "$BENCH_BUILD/idleconns" ]; then
  mkdir -p "$BENCH_BUILD"
  ${CC:-cc} -O2 -o "$BENCH_BUILD/idleconns" "$shared/tools/idleconns.c"
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
export CGO_ENABLED=1
build_side() { # SIDE TREE BUILD_DIR
  local side=$1 tree=$2 b=$3
  mkdir -p "$bin/$side"
  echo "building $side from $tree" >&2
  # Each side's squall.pc, and Go's build cache keyed on its library
  # directory: otherwise a side may link another side's libsquall
  # (golang/go#24544, see bindings/go/buildtree.sh).
  (. "$repo/bindings/go/buildtree.sh" && squall_go_buildtree "$bin/$side" "$b" "$tree" &&
    cd "$tree/bench/go" && go build -o "$bin/$side/raw" ./raw && go build -o "$bin/$side/http" ./adapter &&
    squall_go_check "$bin/$side/raw" "$b" && squall_go_check "$bin/$side/http" "$b")
}
for side in "${sides[@]}"; do
  if [ "$side" = after ]; then build_side after "$repo" "$build"; else build_side "$side" "${tree[$side]}" "${tree[$side]}/build"; fi
done
(cd "$here/peers" && go build -o "$bin/nethttp" ./nethttp && go build -o "$bin/fasthttp" ./fasthttp)

out=$BENCH_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-compare
mkdir -p "$out"
{
  for side in "${sides[@]}"; do
    echo "$side: ${tree[$side]} at $(git -C "${tree[$side]}" rev-parse --short HEAD)$([ -z "$(git -C "${tree[$side]}" status --porcelain --untracked-files=no)" ] || echo ' + uncommitted changes')"
  done
  echo "command: $0 -r $rounds -d $dur -s $scen${instr:+ -i $instr} ${args_in[*]}"
} >"$out/compare-meta.txt"

for r in $(seq 1 "$rounds"); do
  order=("${sides[@]}")
  if [ $((r % 2)) -eq 0 ]; then # reversed every other round
    order=()
    for ((i = ${#sides[@]} - 1; i >= 0; i--)); do order+=("${sides[$i]}"); done
  fi
  args=()
  for p in ${GO_BENCH_PROCS:-1}; do
    for s in raw http; do
      for side in "${order[@]}"; do
        args+=(--custom "go-squall-$s-p$p@$side" "env GOMAXPROCS=$p $bin/$side/$s {PORT}")
      done
    done
    args+=(--custom "go-nethttp-p$p" "env GOMAXPROCS=$p $bin/nethttp {PORT}")
    args+=(--custom "go-fasthttp-p$p" "env GOMAXPROCS=$p $bin/fasthttp {PORT}")
  done
  echo "=== round $r of $rounds" >&2
  "$shared/run.sh" -p "${GO_BENCH_PORT:-18047}" -r 1 -d "$dur" -s "$scen" -o "$out" "${args[@]}" >"$out/round-$r.log" 2>&1 ||
    { echo "compare.sh: round $r failed, see $out/round-$r.log" >&2; exit 1; }
done
python3 "$shared/tools/summarize.py" "$out" | tee "$out/summary-all.md"
if [ -n "$instr" ]; then
  for m in 1 16; do
    args=()
    for s in raw http; do
      for side in "${sides[@]}"; do
        args+=(--custom "go-squall-$s-p1@$side" "env GOMAXPROCS=1 $bin/$side/$s {PORT}")
      done
    done
    "$shared/instr.sh" --no-strace -p "${GO_BENCH_PORT:-18047}" -n "$instr" -m "$m" -o "$out/instr-m$m" "${args[@]}" \
      >"$out/instr-m$m.log" 2>&1 || { echo "compare.sh: instr.sh failed, see $out/instr-m$m.log" >&2; exit 1; }
    echo "instructions per request, $([ "$m" = 1 ] && echo keep-alive || echo "pipelined x$m"):"
    grep callgrind_Ir "$out/instr-m$m/instr.tsv" | awk '{printf "  %-28s %s\n", $1, $5}'
  done | tee "$out/instr.txt"
fi
echo "results: $out" >&2
