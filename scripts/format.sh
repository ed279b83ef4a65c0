#!/usr/bin/env bash
# scripts/format.sh -- clang-format the C and C++ sources (.clang-format
# files: C++ at 100 columns; C headers, examples and C tests at 80).
#
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  change nothing; list the files that differ
#                              and exit 1 if any does
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
command -v clang-format > /dev/null || { echo "scripts/format.sh: clang-format not found (scripts/deps.sh installs it)" >&2; exit 1; }
mapfile -t files < <(git ls-files -co --exclude-standard -- core capi tests examples fuzz |
                     grep -E '\.(c|cc|h)$')
if [[ ${1:-} == --check ]]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format "$f" | cmp -s - "$f"; then
      echo "not formatted: $f (run scripts/format.sh)"
      bad=1
    fi
  done
  exit $bad
fi
clang-format -i "${files[@]}"
