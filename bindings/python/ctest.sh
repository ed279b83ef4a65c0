#!/usr/bin/env bash
# Builds the Python package (SWIG + scikit-build-core) against a squall
# build tree and runs its pytest suite.  Registered in ctest as
# bindings.python.
#
#   SQUALL_BUILD_DIR   build tree holding libsquall.so  (default ../../build)
#   PYTHON             interpreter for the virtualenv   (default python3)
#   PYTEST_FLAGS       extra pytest flags (e.g. "-k wsgi -v")
#
# The virtualenv lives in $SQUALL_BUILD_DIR/python-venv and is reused;
# pytest, Flask, Starlette and httpx come from PyPI.  The package links the
# build tree's libsquall.so (SQUALL_LIBRARY_DIR), so the suite tests the
# library the rest of ctest tests; `pip install bindings/python` without it
# builds libsquall from this source tree into the wheel instead.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SQUALL_BUILD_DIR:-$here/../../build}
build=$(cd "$build" && pwd)
py=${PYTHON:-python3}

command -v "$py" >/dev/null || { echo "bindings/python: $py not found" >&2; exit 1; }
command -v swig >/dev/null || { echo "bindings/python: swig not found (scripts/deps.sh installs it)" >&2; exit 1; }
[ -e "$build/libsquall.so" ] || { echo "bindings/python: $build/libsquall.so not found (build squall first)" >&2; exit 1; }

venv=$build/python-venv
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$venv/bin/python" -m pip install -q pytest flask starlette httpx scikit-build-core
echo "== pip install bindings/python (SWIG, linked to $build/libsquall.so)"
# --no-build-isolation: scikit-build-core is already in the venv (no second
# download per run); the build directory is kept for the next run.
SQUALL_LIBRARY_DIR=$build "$venv/bin/python" -m pip install -q --no-build-isolation \
  --config-settings=build-dir="$build/python-build" "$here"

# An ASan build of libsquall needs the ASan runtime loaded first.
asan_rt=$(ldd "$build/libsquall.so" 2>/dev/null | awk '/libasan/ {print $3; exit}')
if [ -n "$asan_rt" ]; then
  export LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
fi

cd "$here/tests"
echo "== pytest"
# shellcheck disable=SC2086
"$venv/bin/python" -m pytest -q -p no:cacheprovider -o faulthandler_timeout=120 ${PYTEST_FLAGS:-} .
echo "bindings/python: all passed"
