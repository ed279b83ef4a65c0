#!/usr/bin/env bash
# Before/after comparison of the Rust binding benchmark in ONE run: the
# servers of this tree ("after-*") and of another checkout ("before-*", e.g.
# a git worktree of an older commit) side by side, through the shared
# harness (../shared/bench/run.sh, or $SQUALL_SHARED_BENCH).
#
#   bench/rust/compare.sh BEFORE_TREE [harness options]    e.g. -d 5 -s ab
#
# Each tree uses its own Release libsquall and squall_hello (bench/build.sh
# with SKIP_PEERS=1 into its bench/.build) and its own bench/rust servers
# (cargo build --release), both rebuilt every time.  hyper and
# axum run once (this tree's binaries): they do not depend on squall.
#
# COMPARE_ONLY="squall-rust squall-axum-inline" restricts the pairs (names
# without the before-/after- prefix; add "peers" for hyper and axum).
#
# ROUNDS (default 3) harness invocations with one run per scenario each,
# every pair before-X / after-X adjacent and the order of each pair
# alternating between rounds, all into one results directory: the harness'
# summary then gives the median of the ROUNDS runs per server.  Only ratios
# within one such run mean anything on a shared machine.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
after="$(cd "$here/../.." && pwd)"
before="$(cd "$1" && pwd)"
shift
shared="${SQUALL_SHARED_BENCH:-$after/../shared/bench}"
shared="$(cd "$shared" && pwd)"
rounds="${ROUNDS:-3}"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# Build a tree's Release libsquall + squall_hello (bench/build.sh: ninja
# makes it a no-op when nothing changed), then its Rust servers against that
# libsquall, every time: a library or server left over from another commit
# is never measured; ldd confirms which libsquall they load.
. "$here/links.sh"
prepare() {
  local tree=$1
  SKIP_PEERS=1 SQUALL_SRC="$tree" SQUALL_BENCH_BUILD="$tree/bench/.build" bash "$tree/bench/build.sh" >&2
  (cd "$tree/bench/rust" && SQUALL_LIB_DIR="$tree/bench/.build/squall" cargo build --release --locked --bins >&2)
  check_links "$tree/bench/rust/target/release" "$tree/bench/.build/squall" squall_hello squall_axum
}
prepare "$before"
prepare "$after"

# The harness wants idleconns in $BENCH_BUILD even when scenario e is off.
if [ -z "${BENCH_BUILD:-}" ]; then
  export BENCH_BUILD="$here/target/harness"
  mkdir -p "$BENCH_BUILD"
  [ -x "$BENCH_BUILD/idleconns" ] || ${CC:-cc} -O2 -o "$BENCH_BUILD/idleconns" "$shared/tools/idleconns.c"
fi

# NAME|COMMAND for one tree's squall servers.
servers_of() {
  local tag=$1 tree=$2 lib bins
  lib="$tree/bench/.build/squall"
  bins="$tree/bench/rust/target/release"
  echo "$tag-squall-c|env LD_LIBRARY_PATH=$lib $tree/bench/.build/squall_hello {PORT}"
  echo "$tag-squall-rust|env LD_LIBRARY_PATH=$lib $bins/squall_hello {PORT}"
  echo "$tag-squall-axum|env LD_LIBRARY_PATH=$lib $bins/squall_axum {PORT}"
  echo "$tag-squall-axum-inline|env LD_LIBRARY_PATH=$lib $bins/squall_axum {PORT} inline"
}
wanted() { [ -z "${COMPARE_ONLY:-}" ] || [[ " $COMPARE_ONLY " == *" $1 "* ]]; }
mapfile -t b_all < <(servers_of before "$before")
mapfile -t a_all < <(servers_of after "$after")
b_srv=() a_srv=()
for i in "${!b_all[@]}"; do
  n="${b_all[$i]%%|*}"
  if wanted "${n#before-}"; then b_srv+=("${b_all[$i]}"); a_srv+=("${a_all[$i]}"); fi
done
peers=()
if wanted peers; then
  peers=(
    "hyper|$after/bench/rust/target/release/hyper_hello {PORT}"
    "axum|$after/bench/rust/target/release/axum_hello {PORT}"
  )
fi

out="${BENCH_RESULTS:-$here/results}/$(date -u +%Y%m%dT%H%M%SZ)-compare"
mkdir -p "$out"
{
  echo "before: $before ($(git -C "$before" rev-parse --short HEAD))"
  echo "after:  $after ($(git -C "$after" rev-parse --short HEAD)$(git -C "$after" diff --quiet HEAD || echo ', modified'))"
} >"$out/trees.txt"
cat "$out/trees.txt" >&2

for r in $(seq 1 "$rounds"); do
  args=()
  add() { args+=(--custom "${1%%|*}" "${1#*|}"); }
  half=$((${#b_srv[@]} / 2)); [ "$half" -gt 0 ] || half=1
  for i in "${!b_srv[@]}"; do
    if [ $((r % 2)) -eq 1 ]; then add "${b_srv[$i]}"; add "${a_srv[$i]}"
    else add "${a_srv[$i]}"; add "${b_srv[$i]}"; fi
    if [ "$i" -eq $((half - 1)) ]; then for p in ${peers[@]+"${peers[@]}"}; do add "$p"; done; fi
  done
  echo "=== round $r of $rounds" >&2
  "$shared/run.sh" "$@" -r 1 -o "$out" "${args[@]}" >"$out/round-$r.md"
done
python3 "$shared/tools/summarize.py" "$out" | tee "$out/summary.md"
