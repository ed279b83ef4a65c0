#!/usr/bin/env bash
# bench/build.sh -- build everything the squall benchmarks need:
#   * squall itself, Release (-O3, plus -g for profiles), in bench/.build/squall
#     (libsquall.so and the demo server);
#   * bench/servers/squall_hello.c against that build -> bench/.build/squall_hello;
#   * the peers and tools of the shared harness (../shared/bench/build.sh, or
#     $SQUALL_SHARED_BENCH/build.sh) into bench/.build/peers (BENCH_BUILD).
# Everything lands under bench/.build (gitignored); nothing is written to the
# shared harness.  Environment: SQUALL_SHARED_BENCH (harness location),
# SQUALL_BENCH_BUILD (instead of bench/.build), CC, SKIP_PEERS=1, SQUALL_SRC
# (another checkout to build, library and hello server: see lib.sh).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CC=${CC:-cc}

# 1. squall, Release.  Tests and bindings are not needed here.
cmake -S "$src" -B "$out/squall" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O3 -DNDEBUG -g" \
  -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -g" \
  -DSQUALL_TESTS=OFF -DSQUALL_BINDINGS=OFF -DSQUALL_FUZZ=OFF -DSQUALL_SANITIZE=OFF >/dev/null
ninja -C "$out/squall" squall demo

# 2. the hello server (C API only), linked against that build with an rpath.
$CC -O2 -g -Wall -Wextra -std=c99 -D_POSIX_C_SOURCE=200809L \
  -I "$src/capi/include" -o "$out/squall_hello" "$src/bench/servers/squall_hello.c" \
  -L "$out/squall" -lsquall -Wl,-rpath,"$out/squall" -pthread

# 3. the peers (evhttp, h2o, mhd, limit, Go) and idleconns, from the shared harness.
if [ -z "${SKIP_PEERS:-}" ]; then
  BENCH_BUILD="$out/peers" "$shared/build.sh"
fi
echo "built: $out/squall_hello $out/squall/demo${SKIP_PEERS:+ (peers skipped)} from $src"
linked_libsquall "$out/squall_hello"
