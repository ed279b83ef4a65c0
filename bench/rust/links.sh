# bench/rust/links.sh -- sourced by run.sh and compare.sh (not run).
# shellcheck shell=bash

# check_links BINS LIBDIR NAME...: every server BINS/NAME must load the
# libsquall of LIBDIR when run with LD_LIBRARY_PATH=LIBDIR (as the scripts
# run them), never one found elsewhere; exits otherwise.
check_links() {
  local bins=$1 lib=$2 want got b
  shift 2
  want="$(cd "$lib" && pwd -P)/libsquall.so.0"
  for b in "$@"; do
    got="$(LD_LIBRARY_PATH=$lib ldd "$bins/$b" | awk '/libsquall/ {print $3; exit}')"
    if [ -z "$got" ] || [ "$(readlink -f "$got")" != "$(readlink -f "$want")" ]; then
      echo "$bins/$b loads '${got:-no libsquall}', not $want" >&2
      exit 1
    fi
  done
  echo "servers in $bins load $want (ldd)" >&2
}
