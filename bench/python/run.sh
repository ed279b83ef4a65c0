#!/usr/bin/env bash
# Benchmarks squall's Python binding against Python's fastest servers with
# the shared harness (../../../shared/bench/run.sh, or $SQUALL_SHARED_BENCH),
# all in ONE run, one process each, hello world (hello_apps.py of the
# harness):
#
#   squall-c        bench/servers/squall_hello.c: the C floor the Python
#                   layer's own cost is measured against
#   squall-native   squall's native Python API          (hello_native.py)
#   squall-wsgi     python -m squall.wsgi --threads 0   (application on the loop thread)
#   squall-asgi     python -m squall.asgi               (asyncio + uvloop, squall's loop inside it)
#   squall-asgi-lt  python -m squall.asgi --loop-thread (squall's loop on its own thread)
#   granian-wsgi granian-asgi uvicorn gunicorn bjoern tornado
#                   the peers, through the harness' servers/python/run_peer.sh
#
#   bench/python/run.sh [harness options]     (default: -s ab)
#
# Everything Python comes from PyPI into bench/python/.venv (gitignored):
# granian, bjoern (needs Debian's libev-dev), uvicorn[standard], gunicorn,
# tornado, and the given tree's package (pip install bindings/python, every
# run, linked with an rpath to the libsquall.so below, which it prints).
#
#   SQUALL_BUILD_DIR     build tree with libsquall.so (default: bench/build.sh's
#                        Release build of the tree, SQUALL_SRC or this one, built now)
#   PY_BENCH_SERVERS     subset of the names above
#   PYTHON               interpreter for the virtualenv (default python3)
#   BENCH_LIST=1         print the servers as NAME|COMMAND lines instead of running
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
here=$here/python
if [ -z "${SQUALL_BUILD_DIR:-}" ]; then
  SKIP_PEERS=1 "$here/../build.sh" >&2
  SQUALL_BUILD_DIR=$out/squall
fi
build=$(cd "$SQUALL_BUILD_DIR" && pwd)
[ -e "$build/libsquall.so" ] || { echo "run.sh: $build/libsquall.so not found" >&2; exit 1; }

export BENCH_BUILD=${BENCH_BUILD:-$here/.harness-build}
export BENCH_RESULTS=${BENCH_RESULTS:-$here/results}
[ -n "${BENCH_LIST:-}" ] || ensure_idleconns "$BENCH_BUILD"

venv=$here/.venv
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
py=$venv/bin/python
if [ -z "${SKIP_INSTALL:-}" ]; then
  # one at a time: a peer that does not install (bjoern without libev-dev)
  # is named and left out, the others are measured
  for p in granian bjoern 'uvicorn[standard]' gunicorn tornado; do
    hint=
    [ "$p" != bjoern ] || hint=" (bjoern needs Debian's libev-dev)"
    "$py" -m pip install -q --disable-pip-version-check "$p" >&2 ||
      echo "run.sh: pip install $p failed$hint; going on without it" >&2
  done
  SQUALL_LIBRARY_DIR=$build "$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$src/bindings/python"
fi
linked_libsquall "$("$py" -c 'import squall._squall as m; print(m.__file__)')" >&2

mkdir -p "$BENCH_BUILD"
${CC:-cc} -O2 -I"$src/capi/include" -o "$BENCH_BUILD/squall_hello" "$src/bench/servers/squall_hello.c" \
  -L"$build" -lsquall -Wl,-rpath,"$build"

peers=$shared/servers/python/run_peer.sh
declare -A cmd=(
  [squall-c]="$BENCH_BUILD/squall_hello {PORT}"
  [squall-native]="$here/run_squall.sh $py squall-native {PORT}"
  [squall-wsgi]="$here/run_squall.sh $py squall-wsgi {PORT}"
  [squall-asgi]="$here/run_squall.sh $py squall-asgi {PORT}"
  [squall-asgi-lt]="$here/run_squall.sh $py squall-asgi-lt {PORT}"
)
for p in granian-wsgi granian-asgi uvicorn gunicorn bjoern tornado; do
  cmd[$p]="$peers $py $p {PORT}"
done
servers=${PY_BENCH_SERVERS:-squall-c squall-native squall-wsgi squall-asgi squall-asgi-lt bjoern granian-wsgi granian-asgi uvicorn tornado gunicorn}

args=()
for s in $servers; do
  args+=(--custom "$s" "${cmd[$s]}")
done
if [ -n "${BENCH_LIST:-}" ]; then
  for ((i = 0; i < ${#args[@]}; i += 3)); do printf '%s|%s\n' "${args[i + 1]}" "${args[i + 2]}"; done
  exit 0
fi

[ $# -gt 0 ] || set -- -s ab
wait_others
exec "$shared/run.sh" -p "${PY_BENCH_PORT:-18061}" "$@" "${args[@]}"
