#!/usr/bin/env bash
# Rust binding benchmark: squall's closure API and the axum adapter beside
# hyper, axum (current-thread tokio) and the C demo, through the shared
# harness (../shared/bench/run.sh, or $SQUALL_SHARED_BENCH).
#
#   bench/rust/run.sh [harness options]      e.g. -r 3 -d 5 -s ab
#
# Builds the Rust servers in release mode first (see below for which
# libsquall).  Results land in bench/rust/results/
# unless BENCH_RESULTS is set.  Extra servers: BENCH_RUST_ONLY="squall-rust hyper"
# restricts the set (names below).  SQUALL_SRC builds another checkout's
# bindings/rust and bench/rust (see ../lib.sh); BENCH_LIST=1 builds, then
# prints the servers as NAME|COMMAND lines instead of running the harness
# (bench/ab.sh uses both).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$here/rust

# The library and the C reference server, built from the tree under test
# ($src) every time (ninja makes that a no-op when nothing changed), so a
# library left over from another commit is never measured.  Preferred: the
# Release build of bench/build.sh ($SQUALL_BENCH_BUILD, default
# bench/.build: squall/ and squall_hello), so that C and Rust use the same
# optimised libsquall.  With SQUALL_BUILD_DIR: that build tree (it must be
# of $src; it is rebuilt with ninja) and its demo.
bench_build="${SQUALL_BENCH_BUILD:-$repo/bench/.build}"
if [ -z "${SQUALL_BUILD_DIR:-}" ]; then
  SKIP_PEERS=1 SQUALL_SRC="$src" SQUALL_BENCH_BUILD="$bench_build" bash "$repo/bench/build.sh" >&2
  build="$(cd "$bench_build/squall" && pwd)"
  c_cmd="$(cd "$bench_build" && pwd)/squall_hello"
else
  build="$(cd "$SQUALL_BUILD_DIR" && pwd)"
  cmake --build "$build" --target squall >&2
  c_cmd=""
  [ -x "$build/demo" ] && c_cmd="$build/demo --quiet --port"
fi
# The build tree must be one of $src: its CMake cache names the source.
tree_src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null || true)"
if [ -n "$tree_src" ] && [ "$(cd "$tree_src" && pwd -P)" != "$(cd "$src" && pwd -P)" ]; then
  echo "run.sh: $build was configured from $tree_src, not $src" >&2
  exit 1
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

export SQUALL_LIB_DIR="$build"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
(cd "$src/bench/rust" && cargo build --release --locked --bins >&2)
bins="$src/bench/rust/target/release"

# Every server must load the libsquall of $build, as they are run.
. "$here/links.sh"
check_links "$bins" "$build" squall_hello squall_axum

declare -a servers=(
  "squall-rust|$bins/squall_hello {PORT}"
  "squall-rust-callback|$bins/squall_hello {PORT} callback"
  "squall-axum|$bins/squall_axum {PORT}"
  "squall-axum-hop|$bins/squall_axum {PORT} hop"
  "squall-axum-old|$bins/squall_axum {PORT} hop callback"
  # The default since issue 13; the name kept for bench/ab.sh against older
  # commits (run only when BENCH_RUST_ONLY names it).
  "?squall-axum-inline|$bins/squall_axum {PORT} inline"
  "hyper|$bins/hyper_hello {PORT}"
  "axum|$bins/axum_hello {PORT}"
)
if [ -n "$c_cmd" ]; then
  servers=("squall-c|$c_cmd {PORT}" "${servers[@]}")
else
  echo "run.sh: no C hello or demo server found; skipping it" >&2
fi

args=()
for s in "${servers[@]}"; do
  name="${s%%|*}"
  cmd="${s#*|}"
  if [ "${name#\?}" != "$name" ]; then
    name="${name#\?}"
    [[ " ${BENCH_RUST_ONLY:-} " == *" $name "* ]] || continue
  fi
  if [ -n "${BENCH_RUST_ONLY:-}" ] && [[ " $BENCH_RUST_ONLY " != *" $name "* ]]; then continue; fi
  args+=(--custom "$name" "env LD_LIBRARY_PATH=$build $cmd")
  [ -z "${BENCH_LIST:-}" ] || printf '%s|%s\n' "$name" "env LD_LIBRARY_PATH=$build $cmd"
done
[ -z "${BENCH_LIST:-}" ] || exit 0

# The harness wants its tools (idleconns) in $BENCH_BUILD: use bench/'s
# peer build when there is one, else compile just idleconns here.
if [ -z "${BENCH_BUILD:-}" ] && [ ! -x "$shared/build/idleconns" ]; then
  if [ -x "$bench_build/peers/idleconns" ]; then
    export BENCH_BUILD="$bench_build/peers"
  else
    export BENCH_BUILD="$here/target/harness"
    ensure_idleconns "$BENCH_BUILD"
  fi
fi

mkdir -p "$here/results"
export BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
exec "$shared/run.sh" "$@" "${args[@]}"
