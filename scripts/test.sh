#!/usr/bin/env bash
# scripts/test.sh -- install what is missing, build, run every test.
#
#   scripts/test.sh                  deps + format check + build + ctest + extras
#   scripts/test.sh -R capi          extra arguments go to ctest (no extras)
#   scripts/test.sh --build-only     deps + configure + build (scripts/demo.sh)
#   scripts/test.sh --deps-only      scripts/deps.sh, nothing else
#
# Environment (each stage can be skipped):
#   SQUALL_BUILD_DIR=dir   build directory (default: build, or build-asan)
#   SQUALL_SANITIZE=1      ASan+UBSan build in its own directory
#   SQUALL_BINDINGS=OFF    skip the Go and Rust bindings (and their toolchains)
#   SQUALL_TEST_JOBS=N     parallel ctest jobs (default 2)
#   SQUALL_FORMAT=0        skip the clang-format check
#   SQUALL_EXTRA=0         skip what follows a plain full run: the C tests
#                          again under ASan+UBSan (build-asan/) and each
#                          libFuzzer harness for SQUALL_FUZZ_SECONDS (20)
#   SQUALL_TSAN=0          skip the extra ThreadSanitizer stage (build-tsan/)
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
on() { [[ ! ${!1:-$2} =~ ^(0|OFF|off|no|false)$ ]]; }
say() { printf '==> %s\n' "$*"; }

mode=test
case ${1:-} in
  --build-only) mode=build; shift ;;
  --deps-only) mode=deps; shift ;;
esac
sanitize=OFF; on SQUALL_SANITIZE 0 && sanitize=ON
bindings=ON; on SQUALL_BINDINGS ON || bindings=OFF
build=${SQUALL_BUILD_DIR:-$([[ $sanitize == ON ]] && echo build-asan || echo build)}
extra=0
[[ $mode == test && $# -eq 0 && $sanitize == OFF && -z ${SQUALL_BUILD_DIR:-} ]] &&
  on SQUALL_EXTRA 1 && extra=1

SQUALL_BINDINGS=$bindings scripts/deps.sh $([[ $extra == 1 ]] && echo --extra)
for d in /usr/local/go/bin "${CARGO_HOME:-$HOME/.cargo}/bin"; do
  [[ -d $d ]] && PATH=$d:$PATH
done
[[ $mode == deps ]] && exit 0
if [[ $mode == test ]] && on SQUALL_FORMAT 1; then
  say "format check"; scripts/format.sh --check
fi

configure() { # dir type sanitize bindings
  # A build directory made by another generator cannot be reused.
  if [[ -f $1/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$1/CMakeCache.txt"; then
    rm -rf "$1/CMakeCache.txt" "$1/CMakeFiles"
  fi
  say "configure and build $1 ($2, sanitize=$3, bindings=$4)"
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE="$2" -DSQUALL_SANITIZE="$3" \
    -DSQUALL_BINDINGS="$4" -DSQUALL_TESTS=ON
  cmake --build "$1"
}
configure "$build" RelWithDebInfo "$sanitize" "$bindings"
[[ $mode == build ]] && exit 0

say "test"
ctest --test-dir "$build" --output-on-failure -j "${SQUALL_TEST_JOBS:-2}" "$@"
[[ $extra == 1 ]] || exit 0

say "extra: C tests under ASan+UBSan (build-asan)"
configure build-asan Debug ON OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "${SQUALL_TEST_JOBS:-2}" -E '^(integration|abi|stress)\.'
if on SQUALL_TSAN 1; then
  # The thread-crossing paths (any-thread completion, call_soon, the worker
  # storm) under ThreadSanitizer; any report fails the run.
  say "extra: C tests under ThreadSanitizer (build-tsan)"
  configure build-tsan Debug thread OFF
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j "${SQUALL_TEST_JOBS:-2}" -R '^(capi|core)\.'
fi
say "extra: fuzzing each harness for ${SQUALL_FUZZ_SECONDS:-20} s"
fuzz/run.sh "${SQUALL_FUZZ_SECONDS:-20}"
