#!/usr/bin/env bash
# ABI guard: the built libsquall.so against the committed baseline
# (tests/abi/baseline/libsquall.abi, abidw's XML of the public interface),
# with abidiff from libabigail (Debian's abigail-tools, see scripts/deps.sh).
#
# Compatible: the same functions with the same types, or new functions and
# types added (what a minor release may do: other engineers add setters and
# options to the ABI).  Incompatible, and the test fails: a function or
# variable removed, or one whose type changed (parameters, return, the
# layout of a type reachable from them).  The report is printed either way.
#
# Enum constants are not seen here (the API passes them as int); the header
# test (test_header.sh) and the symbol list (test_symbols.sh) cover those
# and the exported names.
#
# After an intended change (an ABI bump: the SONAME's major version moves
# with it, see capi/squall.map), or to take in additions so that the next
# change is compared against them, regenerate the baseline from a
# RelWithDebInfo build and commit it with the change:
#     cmake --build build && tests/abi/test_abi_baseline.sh --update
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${SQUALL_BUILD_DIR:-$src/build}
baseline=$here/baseline/libsquall.abi
lib=$(readlink -f "$build/libsquall.so")

for tool in abidw abidiff; do
  command -v $tool >/dev/null ||
    { echo "test_abi_baseline: $tool not found: install abigail-tools (scripts/deps.sh)" >&2; exit 1; }
done
[[ -f $lib ]] || { echo "test_abi_baseline: no $build/libsquall.so" >&2; exit 1; }
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
  echo "test_abi_baseline: $lib has no debug info (build RelWithDebInfo or Debug)" >&2
  exit 1
fi

# The public interface only (types reachable from squall.h's functions),
# without this machine's paths.
dump() {
  abidw --headers-dir "$src/capi/include/squall" --drop-private-types --exported-interfaces-only \
    --no-corpus-path --no-comp-dir-path --no-show-locs --drop-undefined-syms --no-elf-needed \
    --out-file "$1" "$lib"
  sed -i "s|path='$src/|path='|" "$1"
}

if [[ ${1:-} == --update ]]; then
  mkdir -p "$(dirname "$baseline")"
  dump "$baseline"
  echo "wrote $baseline ($(grep -c '<function-decl' "$baseline") function declarations)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# judge OLD NEW: prints abidiff's report; 0 if NEW is compatible with OLD.
# abidiff's status is a bit mask: 1 error, 2 usage, 4 a change, 8 an
# incompatible change (a removal).  A change (4) is compatible only when
# nothing was removed or changed: additions alone.
judge() {
  local rc=0
  abidiff --no-unreferenced-symbols "$1" "$2" > "$tmp/report" || rc=$?
  cat "$tmp/report"
  if (( rc & 3 )); then
    echo "test_abi_baseline: abidiff failed ($rc)" >&2
    return 2
  fi
  if (( rc & 8 )) || { (( rc & 4 )) && grep -Eq '[1-9][0-9]* (Removed|Changed)' "$tmp/report"; }; then
    echo "test_abi_baseline: INCOMPATIBLE: a function or variable was removed or changed" >&2
    return 1
  fi
  (( rc & 4 )) && echo "test_abi_baseline: compatible (additions only)"
  return 0
}

# The guard's own check, on variants of the baseline: a function added is
# compatible, one removed or with a parameter's type changed is not.
python3 - "$baseline" "$tmp" <<'PY'
import re, sys
base, out = sys.argv[1], sys.argv[2]
s = open(base).read()
name = re.search(r"<function-decl name='(squall_\w+)'", s).group(1)
minus = re.sub(r"\s*<function-decl name='%s'.*?</function-decl>" % name, "", s, count=1, flags=re.S)
minus = re.sub(r"\s*<elf-symbol name='%s'[^>]*/>" % name, "", minus, count=1)
open(out + "/minus.abi", "w").write(minus)
decl = re.search(r"<function-decl name='squall_config_set_int'.*?</function-decl>", s, re.S).group(0)
ids = re.findall(r"<parameter type-id='([^']+)'", decl)
changed = decl.replace("<parameter type-id='%s'" % ids[2], "<parameter type-id='%s'" % ids[1], 1)
open(out + "/changed.abi", "w").write(s.replace(decl, changed))
PY
judge "$tmp/minus.abi" "$baseline" > /dev/null ||
  { echo "test_abi_baseline: self-check: an addition was refused" >&2; exit 1; }
for v in minus changed; do
  if judge "$baseline" "$tmp/$v.abi" > /dev/null 2>&1; then
    echo "test_abi_baseline: self-check: the $v variant passed the guard" >&2
    exit 1
  fi
done

dump "$tmp/current.abi"
judge "$baseline" "$tmp/current.abi"
echo "test_abi_baseline: libsquall.so is compatible with the baseline" \
  "($(grep -c '<function-decl' "$baseline") functions in it)"
