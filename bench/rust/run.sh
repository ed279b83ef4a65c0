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

# The library and the C reference server.  Preferred: the Release build of
# bench/build.sh ($SQUALL_BENCH_BUILD, default bench/.build: squall/ and
# squall_hello), so that C and Rust use the same optimised libsquall; it is
# built (without the peers) when bench/build.sh exists and it is missing.
# Otherwise $SQUALL_BUILD_DIR (default build/) and its demo.
bench_build="${SQUALL_BENCH_BUILD:-$repo/bench/.build}"
if [ -z "${SQUALL_BUILD_DIR:-}" ] && [ ! -x "$bench_build/squall_hello" ] && [ -f "$repo/bench/build.sh" ]; then
  SKIP_PEERS=1 SQUALL_BENCH_BUILD="$bench_build" bash "$repo/bench/build.sh" >&2
fi
if [ -z "${SQUALL_BUILD_DIR:-}" ] && [ -x "$bench_build/squall_hello" ]; then
  build="$(cd "$bench_build/squall" && pwd)"
  c_cmd="$(cd "$bench_build" && pwd)/squall_hello"
else
  build="$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)"
  c_cmd=""
  [ -x "$build/demo" ] && c_cmd="$build/demo --quiet --port"
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

export SQUALL_LIB_DIR="$build"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
(cd "$src/bench/rust" && cargo build --release --locked --bins >&2)
bins="$src/bench/rust/target/release"

declare -a servers=(
  "squall-rust|$bins/squall_hello {PORT}"
  "squall-axum|$bins/squall_axum {PORT}"
  "squall-axum-inline|$bins/squall_axum {PORT} inline"
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
