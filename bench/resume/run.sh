#!/usr/bin/env bash
# Instructions (callgrind) to parse a request head fed one byte at a time,
# resuming vs restarting from byte 0, for heads of 15, 30 and 60 KiB: the
# resuming parser's count grows linearly with the head, the restarting one's
# quadratically.  Needs valgrind.  libsquall.a is built first from the tree
# given (bench/build.sh's Release build of SQUALL_SRC or this checkout), or
# taken from SQUALL_BUILD_DIR as it is.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
root=$src
if [ -z "${SQUALL_BUILD_DIR:-}" ]; then
  SKIP_PEERS=1 "$here/build.sh" >&2
  ninja -C "$out/squall" squall_static >&2
  SQUALL_BUILD_DIR=$out/squall
fi
build=$SQUALL_BUILD_DIR
echo "libsquall: $(readlink -f "$build/libsquall.a") (modified $(date -u -r "$build/libsquall.a" '+%Y-%m-%d %H:%M:%S UTC'))" >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
g++ -std=c++20 -O2 -I"$root" "$root/bench/resume/head_resume.cc" "$build/libsquall.a" \
  $(pkg-config --libs libevent_core openssl zlib) -lpthread -o "$out/head_resume"
printf '| head | resume Ir | restart Ir | restart / resume |\n|---:|---:|---:|---:|\n'
for kib in 15 30 60; do
  declare -A ir
  for mode in resume restart; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$mode" \
      "$out/head_resume" "$mode" $((kib * 1024)) > /dev/null 2> "$out/log.$mode"
    ir[$mode]=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/log.$mode")
  done
  printf '| %d KiB | %s | %s | %.0fx |\n' "$kib" "${ir[resume]}" "${ir[restart]}" \
    "$(echo "${ir[restart]} / ${ir[resume]}" | bc -l)"
done
