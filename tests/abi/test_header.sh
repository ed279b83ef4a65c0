#!/usr/bin/env bash
# The public header compiles on its own, warning-free, as strict C and C++
# (libgit2's rule): every public header is self-contained and C-clean.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
inc=$src/capi/include
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc=${CC:-cc}
cxx=${CXX:-c++}
fail=0

# The header alone, first and twice (include guard).
cat > "$tmp/alone.c" <<'EOF'
#include <squall/squall.h>
#include <squall/squall.h>
int main(void) {
  return squall_version() >> 16 == SQUALL_VERSION_MAJOR ? 0 : 1;
}
EOF
cp "$tmp/alone.c" "$tmp/alone.cc"

check() { # description, command...
  local what=$1
  shift
  if "$@" > "$tmp/out" 2>&1; then
    echo "ok   $what"
  else
    echo "FAIL $what: $*" >&2
    cat "$tmp/out" >&2
    fail=1
  fi
}

cwarn=(-pedantic -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes
       -Wundef -Wshadow -Wcast-qual)
cxxwarn=(-pedantic -Wall -Wextra -Werror -Wundef -Wshadow -Wold-style-cast)

for std in c99 c11 c17; do
  check "C $std" "$cc" -std=$std "${cwarn[@]}" -I"$inc" -c "$tmp/alone.c" -o "$tmp/a.o"
done
for std in c++11 c++17 c++20; do
  check "C++ $std" "$cxx" -std=$std "${cxxwarn[@]}" -I"$inc" -c "$tmp/alone.cc" -o "$tmp/b.o"
done
# As a consumer sees it: SQUALL_STATIC (static linking) changes nothing on
# ELF, and the header must not need the library's build-time macros.
check "C99 -DSQUALL_STATIC" "$cc" -std=c99 "${cwarn[@]}" -DSQUALL_STATIC -I"$inc" \
  -c "$tmp/alone.c" -o "$tmp/c.o"
if command -v clang > /dev/null; then
  check "clang C99" clang -std=c99 "${cwarn[@]}" -I"$inc" -c "$tmp/alone.c" -o "$tmp/d.o"
fi

exit $fail
