# Sourced by bindings/go/ctest.sh and bench/go/*.sh: build Go code against
# a squall build tree (not an install).
#
#   squall_go_buildtree DIR BUILD SRC
#
# writes DIR/squall.pc (header from SRC/capi/include, libsquall from BUILD,
# with an rpath) and exports PKG_CONFIG_PATH=DIR, CGO_LDFLAGS and CGO_CFLAGS
# for it.
#
#   squall_go_check BIN BUILD
#
# fails unless the binary BIN loads BUILD's libsquall (ldd, without
# LD_LIBRARY_PATH): run it after every build that is measured or tested.
#
# Why the environment: Go's build cache does not key a cgo package on what
# `#cgo pkg-config` returned (golang/go#24544), nor on headers outside the
# package (squall.h), nor on the library it links.  A package built once
# keeps the link flags of the first squall.pc it saw, so a later build
# against another tree links (and, through the old rpath, loads) the old
# tree's libsquall, or fails with `cannot find -lsquall` once that one is
# gone.  CGO_LDFLAGS and CGO_CFLAGS are part of the key: the library
# directory and rpath go in CGO_LDFLAGS (they also win over a stale
# pkg-config result), and a hash of the library and of squall.h goes in
# CGO_CFLAGS (-DSQUALL_TREE_HASH=...), so each tree, and each rebuild of a
# tree, gets its own cache entries.
squall_go_buildtree() {
  local dir=$1 build=$2 src=$3 hash
  mkdir -p "$dir"
  cat > "$dir/squall.pc" <<PC
Name: squall
Description: squall build tree $build
Version: 0.1.0
Libs: -L$build -lsquall -Wl,-rpath,$build
Cflags: -I$src/capi/include
PC
  hash=$(cat "$build/libsquall.so" "$src/capi/include/squall/squall.h" | sha256sum | cut -c1-16)
  export PKG_CONFIG_PATH="$dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export CGO_LDFLAGS="${CGO_LDFLAGS:--O2 -g} -L$build -Wl,-rpath,$build"
  export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DSQUALL_TREE_HASH=$hash"
  export CGO_ENABLED=1
}

squall_go_check() {
  local bin=$1 build=$2 got want
  want=$(readlink -f "$build/libsquall.so")
  got=$(env -u LD_LIBRARY_PATH ldd "$bin" | awk '$1 ~ /^libsquall\.so/ {print $3; exit}')
  got=$(readlink -f "$got" 2>/dev/null || true)
  if [ "$got" != "$want" ]; then
    echo "squall_go_check: $bin loads libsquall from '${got:-nowhere}', not $want" >&2
    return 1
  fi
}
