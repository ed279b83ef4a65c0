#!/usr/bin/env bash
# Runs the Node.js binding's tests (node --test) against a squall build tree.
# ctest runs this as "bindings.node" with SQUALL_BUILD_DIR and
# SQUALL_SOURCE_DIR set; by hand it defaults to ../../build.
#
# Installs koffi into bindings/node/node_modules from npm first (npm ci, from
# package-lock.json).  The binding finds libsquall.so.0 by the dynamic
# loader's search: LD_LIBRARY_PATH points it at the build directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SQUALL_BUILD_DIR:-$here/../../build}
build=$(cd "$build" && pwd)

for tool in node npm curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bindings/node: $tool is not installed" >&2; exit 1; }
done
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "bindings/node: node >= 20 needed, found $(node --version)" >&2; exit 1; }
[ -e "$build/libsquall.so.0" ] || { echo "bindings/node: $build/libsquall.so.0 not found (build squall first)" >&2; exit 1; }

cd "$here"
# npm's cache lives in the home directory; use a temporary one where that is
# not writable (CI sandboxes).
if [ ! -w "${HOME:-/nonexistent}" ]; then
  export npm_config_cache=$(mktemp -d)
  trap 'rm -rf "$npm_config_cache"' EXIT
fi
if [ ! -d node_modules/koffi ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset SQUALL_LIB
# An ASan build of libsquall needs the ASan runtime loaded first.
asan_rt=$(ldd "$build/libsquall.so.0" 2>/dev/null | awk '/libasan/ {print $3; exit}')
echo "== npm test (node $(node --version))"
if [ -n "$asan_rt" ]; then
  # Preloaded into node only (the test's curl clients drop it).
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
  export SQUALL_UNDER_ASAN=1 # ASan's quarantine holds freed memory: no RSS bound
  LD_PRELOAD="$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}" node --test test/
else
  npm test
fi
echo "bindings/node: all passed"
