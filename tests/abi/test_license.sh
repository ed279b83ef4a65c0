#!/usr/bin/env bash
# One license, said the same way everywhere: LICENSE (the choice) with the
# two texts beside it, and every package manifest in the tree (Cargo.toml,
# package.json, pyproject.toml, *.rockspec, squall.pc, and a Go module's
# README, go.mod having no license field) naming "MIT OR Apache-2.0".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
cd "$src"
expr='MIT OR Apache-2.0'
fail=0
bad() {
  echo "FAIL $1: $2" >&2
  fail=1
}

grep -q "$expr" LICENSE || bad LICENSE "does not name $expr"
grep -q '^MIT License' LICENSE-MIT || bad LICENSE-MIT "not the MIT text"
grep -q 'Apache License' LICENSE-APACHE && grep -q 'Version 2.0, January 2004' LICENSE-APACHE ||
  bad LICENSE-APACHE "not the Apache-2.0 text"

# An escaped expression for the manifests' own syntaxes.
q='MIT OR Apache-2\.0'
n=0
while IFS= read -r f; do
  n=$((n + 1))
  case $f in
    */Cargo.toml)
      if grep -q '^\[package\]' "$f"; then
        grep -Eq "^license *= *\"$q\"|^license\.workspace *= *true" "$f" ||
          bad "$f" "[package] without license = \"$expr\" (or license.workspace = true)"
      fi
      if grep -q '^\[workspace\.package\]' "$f"; then
        grep -Eq "^license *= *\"$q\"" "$f" || bad "$f" "[workspace.package] without license = \"$expr\""
      fi
      ;;
    */package.json)
      grep -Eq "\"license\" *: *\"\\(?$q\\)?\"" "$f" || bad "$f" "no \"license\": \"$expr\""
      ;;
    */pyproject.toml)
      grep -Eq "^license *= *(\"$q\"|\\{ *text *= *\"$q\" *\\})" "$f" ||
        bad "$f" "no license = \"$expr\" (or { text = \"$expr\" })"
      ;;
    *.rockspec)
      grep -Eq "license *= *\"$q\"" "$f" || bad "$f" "no license = \"$expr\""
      ;;
    */squall.pc.in)
      grep -Eq "^Description:.*$q" "$f" || bad "$f" "Description does not name $expr"
      ;;
    */go.mod)
      grep -q "$expr" "$(dirname "$f")/README.md" 2> /dev/null ||
        [[ $f == bench/* ]] || bad "$f" "its README.md does not name $expr"
      ;;
  esac
done < <(find . \( -name .git -o -name .build -o -name target -o -name node_modules -o -name 'build*' -o -name .venv \) -prune -o \
  -type f \( -name Cargo.toml -o -name package.json -o -name pyproject.toml -o -name '*.rockspec' \
  -o -name squall.pc.in -o -name go.mod \) -print | sed 's|^\./||' | sort)

[[ $n -ge 5 ]] || bad "tree" "found only $n manifests"
if [[ $fail == 0 ]]; then
  echo "OK: LICENSE names $expr; $n manifests agree"
fi
exit $fail
