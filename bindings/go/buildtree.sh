# Sourced by bindings/go/ctest.sh and bench/go/*.sh: build Go code against
# a squall build tree (not an install).
#
#   squall_go_buildtree DIR BUILD SRC
#
# writes DIR/squall.pc (header from SRC/capi/include, libsquall from BUILD,
# with an rpath) and exports PKG_CONFIG_PATH=DIR and CGO_LDFLAGS for it.
#
# Why CGO_LDFLAGS: Go's build cache does not key a cgo package on what
# `#cgo pkg-config` returned (golang/go#24544).  A package built once keeps
# the link flags of the first squall.pc it saw, so a later build against
# another tree links the old tree's libsquall, or fails with `cannot find
# -lsquall` once that one is gone.  CGO_LDFLAGS is part of the key: with the
# library directory in it, each build tree gets its own cache entries.
squall_go_buildtree() {
  local dir=$1 build=$2 src=$3
  mkdir -p "$dir"
  cat > "$dir/squall.pc" <<PC
Name: squall
Description: squall build tree $build
Version: 0.1.0
Libs: -L$build -lsquall -Wl,-rpath,$build
Cflags: -I$src/capi/include
PC
  export PKG_CONFIG_PATH="$dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export CGO_LDFLAGS="${CGO_LDFLAGS:--O2 -g} -L$build"
  export CGO_ENABLED=1
}
