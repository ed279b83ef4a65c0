#!/usr/bin/env bash
# The exported ABI is exactly what the header declares.
#
#   1. capi/exported_symbols.txt lists exactly the SQUALL_API functions of
#      capi/include/squall/squall.h (so the list cannot go stale);
#   2. `nm -D --defined-only` on the built libsquall.so lists exactly those
#      functions (a newly exported but unlisted symbol fails, so does a
#      listed one that is missing), and nothing else but the version node;
#   3. the SONAME carries the ABI major version.
#
# Regenerate the list after changing the header:
#   tests/abi/test_symbols.sh --update
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=${SQUALL_BUILD_DIR:-$src/build}
header=$src/capi/include/squall/squall.h
list=$src/capi/exported_symbols.txt
map=$src/capi/squall.map

# Function names declared with SQUALL_API, one per line, sorted.
header_symbols() {
  python3 - "$header" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)   # block comments
text = re.sub(r'//[^\n]*', ' ', text)                 # line comments
text = re.sub(r'\\\n', ' ', text)                     # macro continuations
text = '\n'.join(l for l in text.split('\n') if not l.lstrip().startswith('#'))
names = set()
for decl in re.finditer(r'\bSQUALL_API\b([^;{]*?)\b(squall_\w+)\s*\(', text, re.S):
    names.add(decl.group(2))
print('\n'.join(sorted(names)))
PY
}

if [[ ${1:-} == --update ]]; then
  header_symbols > "$list"
  echo "wrote $(wc -l < "$list") symbols to $list"
  exit 0
fi

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. header == list
header_symbols > "$tmp/header.txt"
if [[ ! -s $tmp/header.txt ]]; then
  echo "FAIL: no SQUALL_API declarations found in $header" >&2
  exit 1
fi
sort -u "$list" > "$tmp/list.txt"
if ! diff -u "$tmp/list.txt" "$tmp/header.txt" > "$tmp/d1"; then
  echo "FAIL: capi/exported_symbols.txt differs from the header's SQUALL_API functions" >&2
  echo "      (- only in the list, + only in the header; run $0 --update)" >&2
  cat "$tmp/d1" >&2
  fail=1
fi

# 2. library == list
lib=$build/libsquall.so
if [[ ! -e $lib ]]; then
  echo "FAIL: $lib not found (build first; SQUALL_BUILD_DIR=$build)" >&2
  exit 1
fi
# Version nodes of the linker script (e.g. SQUALL_0) appear as absolute
# symbols; they are the only non-function symbols allowed.
nodes=$(grep -oE '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\{' "$map" |
        tr -d '{[:space:]' | sort -u)
nm -D --defined-only "$lib" | awk '{ name=$NF; sub(/@.*/, "", name); print $(NF-1), name }' \
  > "$tmp/nm.txt"
: > "$tmp/exported.txt"
: > "$tmp/odd.txt"
while read -r type name; do
  if [[ $type == A ]] && grep -qx "$name" <<< "$nodes"; then
    continue
  fi
  case $type in
    T) echo "$name" >> "$tmp/exported.txt" ;;
    *) echo "$type $name" >> "$tmp/odd.txt" ;;
  esac
done < "$tmp/nm.txt"
if [[ -s $tmp/odd.txt ]]; then
  echo "FAIL: libsquall.so exports symbols that are not functions:" >&2
  cat "$tmp/odd.txt" >&2
  fail=1
fi
sort -u "$tmp/exported.txt" -o "$tmp/exported.txt"
if ! diff -u "$tmp/list.txt" "$tmp/exported.txt" > "$tmp/d2"; then
  echo "FAIL: exported functions of libsquall.so differ from capi/exported_symbols.txt" >&2
  echo "      (- listed but not exported, + exported but not listed)" >&2
  cat "$tmp/d2" >&2
  fail=1
fi

# 3. SONAME = libsquall.so.<ABI major>
major=$(sed -n 's/^#define SQUALL_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [[ $soname != "libsquall.so.$major" ]]; then
  echo "FAIL: SONAME is '$soname', expected libsquall.so.$major" >&2
  fail=1
fi

if [[ $fail == 0 ]]; then
  echo "OK: $(wc -l < "$tmp/exported.txt") exported functions match the header; SONAME $soname"
fi
exit $fail
