#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang and run each for N seconds.
#   fuzz/run.sh [seconds=30] [harness ...]   harness: parser chunked body connection tls
# Work files (binaries, grown corpus, crash artifacts) go to $SQUALL_FUZZ_DIR
# (default: fuzz-run/ in the build directory, $SQUALL_BUILD_DIR or build/), not
# a temporary folder other checkouts share.  Exits non-zero if a harness
# finds a crash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${1:-30}
[ $# -gt 0 ] && shift
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(parser chunked body connection tls)

CXX=${CXX_FUZZ:-clang++}
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "run.sh: $CXX not found, installing clang" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq clang
  CXX=clang++
fi

build=${SQUALL_BUILD_DIR:-build}
[[ $build == /* ]] || build=$root/$build
out=${SQUALL_FUZZ_DIR:-$build/fuzz-run}
mkdir -p "$out"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -fno-omit-frame-pointer -I"$root")

status=0
for h in "${harnesses[@]}"; do
  echo "== $h: building"
  if [ "$h" = connection ] || [ "$h" = tls ]; then
    # The whole core (loop, stream, transports, connection), with coverage;
    # libevent and OpenSSL linked as they are.
    srcs=("$root"/core/*.cc "$root"/core/http/*.cc)
    libs=(-levent -lz -pthread)
    for m in libevent_openssl openssl; do
      pkg-config --exists "$m" 2>/dev/null && libs+=($(pkg-config --libs "$m"))
    done
  else
    srcs=("$root/core/http/parser.cc" "$root/core/http/body.cc")
    libs=(-lz)
  fi
  "$CXX" "${flags[@]}" "$here/${h}_fuzz.cc" "${srcs[@]}" "${libs[@]}" -o "$out/${h}_fuzz"
  mkdir -p "$out/corpus/$h" "$out/artifacts/$h"
  args=(-max_total_time="$secs" -print_final_stats=1 -max_len=8192
        -artifact_prefix="$out/artifacts/$h/")
  [ -f "$here/$h.dict" ] && args+=(-dict="$here/$h.dict")
  # First directory receives new inputs; the committed seeds are read only.
  args+=("$out/corpus/$h")
  [ -d "$here/corpus/$h" ] && args+=("$here/corpus/$h")
  echo "== $h: fuzzing for ${secs}s"
  if ! "$out/${h}_fuzz" "${args[@]}"; then
    echo "== $h: FAILED, artifacts in $out/artifacts/$h" >&2
    status=1
  fi
done
exit $status
