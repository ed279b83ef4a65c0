#!/usr/bin/env bash
# Rust binding benchmark: squall's closure API and the axum adapter beside
# hyper, axum (current-thread tokio) and the C demo, through the shared
# harness (../shared/bench/run.sh, or $SQUALL_SHARED_BENCH).
#
#   bench/rust/run.sh [harness options]      e.g. -r 3 -d 5 -s ab
#
# Builds the servers in release mode against $SQUALL_BUILD_DIR (default
# build/ at the repo root) first.  Results land in bench/rust/results/
# unless BENCH_RESULTS is set.  Extra servers: BENCH_RUST_ONLY="squall-rust hyper"
# restricts the set (names below).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)"
shared="${SQUALL_SHARED_BENCH:-$repo/../shared/bench}"
shared="$(cd "$shared" && pwd)"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

export SQUALL_LIB_DIR="$build"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
(cd "$here" && cargo build --release --locked --bins)
bins="$here/target/release"

# The C reference: a hello server from bench/ if the build has one, else
# the demo (its body differs: the harness' body check then fails, the
# throughput numbers stand).
c_cmd=""
for cand in "$build/bench/hello_server" "$build/hello_server" "$build/bench/squall_hello" "$build/demo"; do
  if [ -x "$cand" ]; then c_cmd="$cand"; break; fi
done

declare -a servers=(
  "squall-rust|$bins/squall_hello {PORT}"
  "squall-axum|$bins/squall_axum {PORT}"
  "hyper|$bins/hyper_hello {PORT}"
  "axum|$bins/axum_hello {PORT}"
)
if [ -n "$c_cmd" ]; then
  servers=("squall-c|$c_cmd {PORT}" "${servers[@]}")
else
  echo "run.sh: no C hello/demo server in $build; skipping it" >&2
fi

args=()
for s in "${servers[@]}"; do
  name="${s%%|*}"
  cmd="${s#*|}"
  if [ -n "${BENCH_RUST_ONLY:-}" ] && [[ " $BENCH_RUST_ONLY " != *" $name "* ]]; then continue; fi
  args+=(--custom "$name" "env LD_LIBRARY_PATH=$build $cmd")
done

mkdir -p "$here/results"
export BENCH_RESULTS="${BENCH_RESULTS:-$here/results}"
exec "$shared/run.sh" "$@" "${args[@]}"
