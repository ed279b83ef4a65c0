#!/usr/bin/env bash
# The Lua binding (bindings/lua, a coroutine per request) against the C
# hello server and lua-http (Debian's lua-http, if installed: apt-get
# install lua-http), in ONE run of the shared harness: keep-alive (a) and
# pipelined x16 (b), ROUNDS rounds of 1 run each (order reversed every
# other round), medians over the rounds.
#
#   bench/lua/compare.sh [-r ROUNDS] [-d SECONDS] [-s SCENARIOS]
#
# Uses bench/build.sh's Release libsquall of the tree given (SQUALL_SRC, see
# ../lib.sh; SKIP_BUILD=1 reuses bench/.build); that tree's Lua module is
# built against it with the rockspec (luarocks make) into
# bench/.build/lua-rocks, every time (an rpath to the library), and the
# libsquall it loads is printed.  BENCH_LIST=1: build, then print the
# servers as NAME|COMMAND lines instead of running the harness
# (bench/page.sh uses it).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

compare_setup "$@"
rocks="$out/lua-rocks"
tmp=$(mktemp -d)
mkdir -p "$tmp/src"
cp -r "$src/bindings/lua" "$tmp/src/lua"
cp -r "$src/bindings/swig" "$tmp/src/swig"
rm -rf "$rocks"
(cd "$tmp/src/lua" && luarocks --lua-version 5.4 --tree "$rocks" make squall-scm-1.rockspec \
  SQUALL_INCDIR="$src/capi/include" SQUALL_LIBDIR="$out/squall" CFLAGS="-O2 -fPIC") >"$out/lua-rocks.log"
rm -rf "$tmp"
linked_libsquall "$rocks/lib/lua/5.4/squall_core.so" >&2
# (The harness runs each command with bash -c: quote the ';'.)
luaenv="'LUA_PATH=$rocks/share/lua/5.4/?.lua;;' 'LUA_CPATH=$rocks/lib/lua/5.4/?.so;;'"
servers=(--custom lua-squall "env $luaenv lua5.4 $src/bench/lua/squall_hello.lua {PORT}"
         --custom squall-c "$out/squall_hello {PORT}")
# lua-http: Debian installs its pure-Lua files for Lua 5.1-5.3 only; its C
# dependencies (cqueues, luaossl, lpeg) exist for 5.4, so 5.4 runs it with
# those paths.
lp="/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua;/usr/share/lua/5.2/?.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;;"
if [ -e /usr/share/lua/5.3/http/server.lua ]; then
  servers+=(--custom lua-http "env 'LUA_PATH=$lp' lua5.4 $src/bench/lua/luahttp_hello.lua {PORT}")
else
  echo "lua-http is not installed (apt-get install lua-http): measuring without it" >&2
fi
compare_ready "${servers[@]}"
dir="$BENCH_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-lua"
mkdir -p "$dir"
echo "command: $0 -r $rounds -d $dur -s $scen; $(lua5.4 -v); $(linked_libsquall "$rocks/lib/lua/5.4/squall_core.so"); $(git -C "$src" rev-parse --short HEAD)" >"$dir/compare-meta.txt"
harness_rounds "$dir" "$rounds" "${BENCH_PORT:-18087}" "$dur" "$scen" -- "${servers[@]}"
echo "results: $dir" >&2
