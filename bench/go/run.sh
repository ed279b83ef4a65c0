#!/usr/bin/env bash
# Benchmarks the squall Go binding against Go's own servers with the shared
# harness (../../../shared/bench/run.sh, or $SQUALL_SHARED_BENCH):
#
#   go-squall-raw   the binding's low-level API      (bench/go/raw)
#   go-squall-http  the net/http.Handler adapter     (bench/go/adapter)
#   go-nethttp      Go's net/http, same handler      (bench/go/peers/nethttp)
#   go-fasthttp     github.com/valyala/fasthttp      (bench/go/peers/fasthttp)
#
# each at GOMAXPROCS=1 and =2 (suffix -p1 / -p2).  Arguments are passed to
# the harness (default: -s ab).  Example:
#
#   bench/go/run.sh -r 3 -d 5 -s ab
#
#   SQUALL_BUILD_DIR     build tree with libsquall.so (default ../../build)
#   SQUALL_SHARED_BENCH  the shared harness directory
#   GO_BENCH_PROCS       GOMAXPROCS values (default "1 2")
#   GO_BENCH_SERVERS     subset of "raw http nethttp fasthttp" (only those are built)
#   SQUALL_SRC           checkout whose bindings/go and bench/go are built (default: this one)
#   GO_BENCH_BIN         where the binaries go (default bench/go/bin, gitignored)
#   BENCH_LIST=1         build, then print the servers as NAME|COMMAND lines
#                        instead of running the harness (bench/ab.sh uses it)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$here/go
build=$(cd "${SQUALL_BUILD_DIR:-$repo/build}" && pwd)
[ -e "$build/libsquall.so" ] || { echo "run.sh: $build/libsquall.so not found" >&2; exit 1; }

# The harness needs a writable build dir with its idleconns tool, and a
# results dir; by default both live here (git-ignored).
export BENCH_BUILD=${BENCH_BUILD:-$here/.harness-build}
export BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
[ -n "${BENCH_LIST:-}" ] || ensure_idleconns "$BENCH_BUILD"

# The binaries outlive this shell (it execs the harness): bench/go/bin/ (gitignored).
bin=${GO_BENCH_BIN:-$here/bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)
# squall.pc for this build tree, Go's build cache keyed on it (golang/go#24544).
. "$repo/bindings/go/buildtree.sh"
squall_go_buildtree "$bin" "$build" "$src"

declare -A pkg=([raw]=./raw [http]=./adapter [nethttp]=./peers/nethttp [fasthttp]=./peers/fasthttp)
declare -A name=([raw]=go-squall-raw [http]=go-squall-http [nethttp]=go-nethttp [fasthttp]=go-fasthttp)
servers=${GO_BENCH_SERVERS:-raw http nethttp fasthttp}

echo "building $servers from $src/bench/go into $bin" >&2
for s in $servers; do
  # the peers are a module of their own (bench/go/peers)
  case "${pkg[$s]}" in
  ./peers/*) (cd "$src/bench/go/peers" && go build -o "$bin/$s" "./${pkg[$s]#./peers/}") ;;
  *)
    (cd "$src/bench/go" && go build -o "$bin/$s" "${pkg[$s]}")
    squall_go_check "$bin/$s" "$build" # this tree's libsquall, not a cached one
    ;;
  esac
done

args=()
for p in ${GO_BENCH_PROCS:-1 2}; do
  for s in $servers; do
    args+=(--custom "${name[$s]}-p$p" "env GOMAXPROCS=$p $bin/$s {PORT}")
  done
done
if [ -n "${BENCH_LIST:-}" ]; then
  for ((i = 0; i < ${#args[@]}; i += 3)); do printf '%s|%s\n' "${args[i + 1]}" "${args[i + 2]}"; done
  exit 0
fi

[ $# -gt 0 ] || set -- -s ab
# A port of our own: other benchmarks may hold the harness default (18080).
exec "$shared/run.sh" -p "${GO_BENCH_PORT:-18047}" "$@" "${args[@]}"
