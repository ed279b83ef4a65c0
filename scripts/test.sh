#!/usr/bin/env bash
# scripts/test.sh -- install what is missing, build, run every test.
#
#   scripts/test.sh                  deps + format check + build + ctest + docs + extras
#   scripts/test.sh -R capi          extra arguments go to ctest (no docs, no extras)
#   scripts/test.sh --build-only     deps + configure + build (scripts/demo.sh)
#   scripts/test.sh --deps-only      scripts/deps.sh, nothing else
#
# Each stage's output goes to a log file under <build>/logs/ (printed when
# the stage fails); the run ends with one line per stage and a final
# "N passed, M failed" line.  A stage is one line below:
#
#   stage [--needs a,b] NAME COMMAND ARGS...
#
# (skipped, and said so, when a stage it needs did not pass).
#
# Environment (each stage can be skipped):
#   SQUALL_BUILD_DIR=dir   build directory (default: build, or build-asan)
#   SQUALL_SANITIZE=1      ASan+UBSan build in its own directory
#   SQUALL_BINDINGS=OFF    skip the Go and Rust bindings (and their toolchains)
#   SQUALL_TEST_JOBS=N     parallel ctest jobs (default 2)
#   SQUALL_FORMAT=0        skip the clang-format check
#   SQUALL_DOCS=0          skip the API reference (doxygen; run when present)
#   SQUALL_EXTRA=0         skip what follows a plain full run: the C tests
#                          again under ASan+UBSan (build-asan/) and each
#                          libFuzzer harness for SQUALL_FUZZ_SECONDS (20),
#                          its corpus and findings in <build>/fuzz-run/
#   SQUALL_VERBOSE=1       also show each stage's output as it runs
#   SQUALL_TSAN=0          skip the extra ThreadSanitizer stage (build-tsan/)
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
on() { [[ ! ${!1:-$2} =~ ^(0|OFF|off|no|false)$ ]]; }

mode=test
case ${1:-} in
  --build-only) mode=build; shift ;;
  --deps-only) mode=deps; shift ;;
esac
sanitize=OFF; on SQUALL_SANITIZE 0 && sanitize=ON
bindings=ON; on SQUALL_BINDINGS ON || bindings=OFF
build=${SQUALL_BUILD_DIR:-$([[ $sanitize == ON ]] && echo build-asan || echo build)}
full=0 # a plain full run: docs and extras too
[[ $mode == test && $# -eq 0 && $sanitize == OFF && -z ${SQUALL_BUILD_DIR:-} ]] && full=1
extra=0
[[ $full == 1 ]] && on SQUALL_EXTRA 1 && extra=1

# ------------------------------------------------------------ stage runner
logs=$build/logs
mkdir -p "$logs"
rm -f "$logs"/*.log
results=() # "status<TAB>name<TAB>seconds<TAB>note"
declare -A passed=()

stage() { # [--needs a,b] name command args...
  local needs=() name log rc=0 t0 n need note=""
  if [[ $1 == --needs ]]; then
    IFS=, read -ra needs <<< "$2"
    shift 2
  fi
  name=$1
  shift
  for need in "${needs[@]}"; do
    if [[ -z ${passed[$need]:-} ]]; then
      printf '==> %-26s skipped (%s did not pass)\n' "$name" "$need"
      results+=("skip	$name	-	$need did not pass")
      return 0
    fi
  done
  n=$((${#results[@]} + 1))
  log=$logs/$(printf '%02d' "$n")-${name//[^A-Za-z0-9_.-]/_}.log
  t0=$SECONDS
  if on SQUALL_VERBOSE 0; then
    printf '==> %s\n' "$name"
    ("$@") 2>&1 | tee "$log" || rc=$?
  else
    printf '==> %-26s ' "$name"
    ("$@") > "$log" 2>&1 || rc=$?
  fi
  # ctest's verdict line, when the stage ran ctest.
  note=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ $rc == 0 ]]; then
    passed[$name]=1
    on SQUALL_VERBOSE 0 || printf 'ok (%d s)\n' $((SECONDS - t0))
    results+=("ok	$name	$((SECONDS - t0))	$note")
  else
    on SQUALL_VERBOSE 0 || printf 'FAILED (%d s)\n' $((SECONDS - t0))
    printf -- '---- %s failed (exit %d); the last 150 lines of %s:\n' "$name" "$rc" "$log"
    tail -n 150 "$log"
    printf -- '---- end of %s\n' "$name"
    results+=("FAIL	$name	$((SECONDS - t0))	${note:+$note; }log: $log")
  fi
}

skip() { # name reason: a stage that does not apply to this run
  printf '==> %-26s skipped (%s)\n' "$1" "$2"
  results+=("skip	$1	-	$2")
}

summary() {
  local r st name secs note np=0 nf=0
  printf '\n==> summary (stage logs in %s/)\n' "$logs"
  for r in "${results[@]}"; do
    IFS=$'\t' read -r st name secs note <<< "$r"
    [[ $st == ok ]] && np=$((np + 1))
    [[ $st == FAIL ]] && nf=$((nf + 1))
    printf '  %-5s %-26s %6s  %s\n' "$st" "$name" "$([[ $secs == - ]] && echo "" || echo "$secs s")" "$note"
  done
  printf '%d passed, %d failed\n' "$np" "$nf"
  [[ $nf == 0 ]]
}
trap 'summary || exit 1' EXIT

# ------------------------------------------------------------------ stages
configure() { # dir type sanitize bindings
  # A build directory made by another generator cannot be reused.
  if [[ -f $1/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$1/CMakeCache.txt"; then
    rm -rf "$1/CMakeCache.txt" "$1/CMakeFiles"
  fi
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE="$2" -DSQUALL_SANITIZE="$3" \
    -DSQUALL_BINDINGS="$4" -DSQUALL_TESTS=ON
}
run_ctest() { # dir args...
  local dir=$1
  shift
  ctest --test-dir "$dir" --output-on-failure -j "${SQUALL_TEST_JOBS:-2}" "$@"
}
asan_build() { configure build-asan Debug ON OFF && cmake --build build-asan; }
asan_ctest() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_ctest build-asan -E '^(integration|abi|stress)\.'
}
tsan_build() { configure build-tsan Debug thread OFF && cmake --build build-tsan; }
tsan_ctest() {
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_ctest build-tsan -R '^(capi|core)\.'
}
build_abs=$(cd "$build" && pwd)

stage deps env SQUALL_BINDINGS=$bindings scripts/deps.sh $([[ $extra == 1 ]] && echo --extra)
for d in /usr/local/go/bin "${CARGO_HOME:-$HOME/.cargo}/bin"; do
  [[ -d $d ]] && PATH=$d:$PATH
done
[[ $mode == deps ]] && exit 0

if [[ $mode == test ]] && on SQUALL_FORMAT 1; then
  stage --needs deps format scripts/format.sh --check
fi
stage --needs deps configure configure "$build" RelWithDebInfo "$sanitize" "$bindings"
stage --needs configure build cmake --build "$build"
[[ $mode == build ]] && exit 0

stage --needs build test run_ctest "$build" "$@"
if [[ $full == 1 ]] && on SQUALL_DOCS 1; then
  if command -v doxygen > /dev/null; then
    stage --needs configure "docs (doxygen)" cmake --build "$build" --target docs
  else
    skip "docs (doxygen)" "doxygen not installed"
  fi
fi
if [[ $extra == 1 ]]; then
  stage --needs deps "asan build" asan_build
  stage --needs "asan build" "asan test" asan_ctest
  if on SQUALL_TSAN 1; then
    # The thread-crossing paths (any-thread completion, call_soon, groups,
    # the worker storm) under ThreadSanitizer; any report fails the run.
    stage --needs deps "tsan build" tsan_build
    stage --needs "tsan build" "tsan test" tsan_ctest
  fi
  stage --needs deps fuzz env SQUALL_FUZZ_DIR="$build_abs/fuzz-run" fuzz/run.sh "${SQUALL_FUZZ_SECONDS:-20}"
fi
