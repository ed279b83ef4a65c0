#!/usr/bin/env bash
# Runs the Go binding's checks against a squall build tree (not an install):
# go vet, the build-cache check of buildtree.sh, go test (GOMAXPROCS 1 and
# 2), go test -race.  Registered in ctest
# as bindings.go.
#
#   SQUALL_BUILD_DIR   build tree holding libsquall.so   (default ../../build)
#   SQUALL_SOURCE_DIR  source tree with capi/include      (default ../..)
#   GO_TEST_FLAGS      extra flags for go test (e.g. "-run Flush -v")
#
# It writes a temporary squall.pc that points at the source header and the
# build directory, so `#cgo pkg-config: squall` resolves without installing,
# and keys Go's build cache on that directory (buildtree.sh: golang/go#24544).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SQUALL_SOURCE_DIR:-$here/../..}
build=${SQUALL_BUILD_DIR:-$here/../../build}
src=$(cd "$src" && pwd)
build=$(cd "$build" && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "ctest.sh: go is not installed" >&2
  exit 1
fi
if [ ! -e "$build/libsquall.so" ]; then
  echo "ctest.sh: $build/libsquall.so not found (build squall first)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=buildtree.sh
. "$here/buildtree.sh"
squall_go_buildtree "$tmp" "$build" "$src"
export LD_LIBRARY_PATH="$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Keep the module and build caches out of the home directory if it is not
# writable (CI sandboxes).
if [ ! -w "${HOME:-/nonexistent}" ]; then
  export GOCACHE="$tmp/gocache" GOMODCACHE="$tmp/gomodcache" GOPATH="$tmp/gopath"
fi

cd "$here"
echo "== go vet"
go vet ./...

# An ASan build of libsquall (SQUALL_SANITIZE=ON) needs the ASan runtime
# loaded first; Go's race detector (a TSan runtime) cannot share the
# process with it, so -race is skipped then.
asan_rt=$(ldd "$build/libsquall.so" 2>/dev/null | awk '/libasan/ {print $3; exit}')
if [ -n "$asan_rt" ]; then
  echo "bindings/go: libsquall is built with ASan; preloading $asan_rt, no -race run"
  # Leaks: the Go runtime's own allocations are not ours to report.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
  echo "== go test (ASan)"
  # shellcheck disable=SC2086
  go test -count=1 -cpu 1,2 -exec "env LD_PRELOAD=$asan_rt${LD_PRELOAD:+:$LD_PRELOAD}" ${GO_TEST_FLAGS:-} ./...
  echo "bindings/go: all passed (ASan)"
  exit 0
fi

echo "== build cache keyed on the library (golang/go#24544)"
# The package built against one tree, then against another while the first
# is still there: it must link and load the second one (not the first one's
# rpath from the cache); then against the first tree's directory once its
# library was rebuilt (here: changed), without a stale cache entry.
(
  for d in a b; do
    mkdir -p "$tmp/lib-$d"
    cp -a "$build"/libsquall.so* "$tmp/lib-$d/"
  done
  unset CGO_LDFLAGS CGO_CFLAGS
  squall_go_buildtree "$tmp/pc-a" "$tmp/lib-a" "$src"
  go test -c -o "$tmp/cache-a.test" . > /dev/null
  squall_go_check "$tmp/cache-a.test" "$tmp/lib-a"
  a_flags=$CGO_CFLAGS
  unset CGO_LDFLAGS CGO_CFLAGS
  squall_go_buildtree "$tmp/pc-b" "$tmp/lib-b" "$src"
  go test -c -o "$tmp/cache-b.test" . > /dev/null
  squall_go_check "$tmp/cache-b.test" "$tmp/lib-b"
  # a rebuilt library in the same place changes the cache key
  echo >> "$(readlink -f "$tmp/lib-a/libsquall.so")"
  unset CGO_LDFLAGS CGO_CFLAGS
  squall_go_buildtree "$tmp/pc-a" "$tmp/lib-a" "$src"
  [ "$CGO_CFLAGS" != "$a_flags" ] || {
    echo "bindings/go: the cache key did not change with the library" >&2
    exit 1
  }
  rm -rf "$tmp/lib-a" "$tmp/lib-b" "$tmp"/cache-*.test
)

echo "== go test"
# shellcheck disable=SC2086
go test -count=1 -cpu 1,2 ${GO_TEST_FLAGS:-} ./...
echo "== go test -race"
# shellcheck disable=SC2086
go test -race -count=1 ${GO_TEST_FLAGS:-} ./...
echo "bindings/go: all passed"
