#!/usr/bin/env bash
# The installed package works for a consumer:
#   - cmake --install into a temporary prefix;
#   - a tiny C program built with `pkg-config --cflags --libs squall`, run;
#   - the same program linked statically with `pkg-config --static`, run;
#   - a tiny CMake project using find_package(squall) + squall::squall, run;
#   - the same project declared C only (project(app C)) linking
#     squall::squall_static: the imported target must bring its C++ runtime
#     itself; run, and not linked to libsquall.so.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${SQUALL_BUILD_DIR:-$src/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { echo "--- $*"; }

step "cmake --install $build --prefix <tmp>"
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2
  exit 1
}
test -f "$prefix/include/squall/squall.h"
for f in LICENSE LICENSE-MIT LICENSE-APACHE CHANGELOG.md; do
  test -f "$(find "$prefix" -path '*/doc/squall/'"$f" -print -quit)" ||
    { echo "$f not installed under share/doc/squall" >&2; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name 'libsquall.so*' -print -quit)")
test -n "$libdir"
pcdir=$(dirname "$(find "$prefix" -name squall.pc -print -quit)")
test -f "$pcdir/squall.pc"

# A consumer program: runs a loop, a call_soon from another thread wakes it,
# checks the run-time version against the header's.
mkdir -p "$tmp/app"
cat > "$tmp/app/main.c" <<'EOF'
#include <squall/squall.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static squall_loop *loop;
static int ran;

static void on_soon(void *arg) {
  (void)arg;
  ran = 1;
  squall_loop_stop(loop);
}

static void *poke(void *arg) {
  (void)arg;
  squall_loop_call_soon(loop, on_soon, NULL);
  return NULL;
}

int main(void) {
  pthread_t t;
  if (squall_version() != SQUALL_VERSION_NUM ||
      strcmp(squall_version_string(), SQUALL_VERSION_STRING) != 0) {
    fprintf(stderr, "version mismatch: %s\n", squall_version_string());
    return 1;
  }
  if (squall_loop_new(&loop) != SQUALL_OK) return 1;
  pthread_create(&t, NULL, poke, NULL);
  if (squall_loop_run(loop) != SQUALL_OK) return 1;
  pthread_join(t, NULL);
  if (squall_loop_free(loop) != SQUALL_OK || !ran) return 1;
  printf("squall %s ok\n", squall_version_string());
  return 0;
}
EOF

# A sanitizer build (SQUALL_SANITIZE=ON) needs its consumers built the same
# way, or the ASan runtime is not loaded first.
san=()
if grep -q '^SQUALL_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt" 2> /dev/null; then
  san=(-fsanitize=address,undefined)
fi

export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fail=0

pkgconfig_shared() {
  step "pkg-config --cflags --libs squall: $(pkg-config --cflags --libs squall)"
  local want
  want=$(sed -n 's/^#define SQUALL_VERSION_STRING "\(.*\)"/\1/p' "$src/capi/include/squall/squall.h")
  test "$(pkg-config --modversion squall)" = "$want"
  # The flags must point into the prefix the package was installed to.
  case " $(pkg-config --cflags --libs squall) " in
    *" -I$prefix/"*) ;;
    *) echo "pkg-config flags do not point into the install prefix $prefix" \
         "(squall.pc has an absolute prefix: install with --prefix breaks it)" >&2
       return 1 ;;
  esac
  # shellcheck disable=SC2046
  cc -std=c99 -Wall -Wextra -Werror "${san[@]}" "$tmp/app/main.c" -o "$tmp/app/shared" \
    $(pkg-config --cflags --libs squall) -pthread
  "$tmp/app/shared"
  # It really uses the installed library.
  ldd "$tmp/app/shared" | grep "$libdir/libsquall.so" > /dev/null  # not -q: SIGPIPE under pipefail
}

pkgconfig_static() {
  step "pkg-config --static (libsquall.a)"
  local libs
  libs=$(pkg-config --static --libs squall)
  libs=${libs//-lsquall/}
  # shellcheck disable=SC2086
  cc -std=c99 -Wall -Wextra -Werror "${san[@]}" "$tmp/app/main.c" -o "$tmp/app/static" \
    $(pkg-config --cflags squall) "$libdir/libsquall.a" $libs -pthread
  "$tmp/app/static"
  if ldd "$tmp/app/static" | grep libsquall > /dev/null; then
    echo "static build still links libsquall.so" >&2
    return 1
  fi
}

cmake_consumer() { # dir target: configure and build a C-only find_package consumer
  mkdir -p "$tmp/$1"
  cp "$tmp/app/main.c" "$tmp/$1/main.c"
  cat > "$tmp/$1/CMakeLists.txt" <<EOF2
cmake_minimum_required(VERSION 3.20)
project(squall_consumer C)
find_package(squall 0.1 REQUIRED)
find_package(Threads REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE $2 Threads::Threads)
EOF2
  local gen=()
  command -v ninja > /dev/null && gen=(-G Ninja)
  cmake -S "$tmp/$1" -B "$tmp/$1/build" "${gen[@]}" \
    -DCMAKE_C_FLAGS="${san[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san[*]}" \
    -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/$1.log" 2>&1 &&
    cmake --build "$tmp/$1/build" >> "$tmp/$1.log" 2>&1 || {
    tail -n 40 "$tmp/$1.log" >&2
    return 1
  }
  "$tmp/$1/build/consumer"
}

cmake_package() {
  step "CMake find_package(squall) + squall::squall"
  cmake_consumer cmakeapp squall::squall
  ldd "$tmp/cmakeapp/build/consumer" | grep "$libdir/libsquall.so" > /dev/null
}

cmake_static_c() {
  step "CMake project(app C) + squall::squall_static"
  cmake_consumer cmakestatic squall::squall_static
  if ldd "$tmp/cmakestatic/build/consumer" | grep libsquall > /dev/null; then
    echo "static CMake consumer still links libsquall.so" >&2
    return 1
  fi
}

# Run every part (a failure in one does not hide the others).
# (Not as an `if` condition: errexit is ignored there.)
for part in pkgconfig_shared pkgconfig_static cmake_package cmake_static_c; do
  set +e
  ( set -e; $part )
  rc=$?
  set -e
  if [[ $rc == 0 ]]; then
    echo "ok   $part"
  else
    echo "FAIL $part" >&2
    fail=1
  fi
done
if [[ $fail == 0 ]]; then
  echo "OK: installed package usable through pkg-config (shared, static) and find_package (shared, static from C)"
fi
exit $fail
