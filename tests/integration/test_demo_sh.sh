#!/usr/bin/env bash
# scripts/demo.sh as a user runs it (without its build step:
# SQUALL_DEMO_BUILD=0, the demo of this build tree):
#   - the port is taken: it exits 1 with the server's reason and its own
#     message, and prints no "Try" line;
#   - --port 0: the "Try" lines come after the server's "listening on" line
#     and name the port it got; curl on that line is answered and logged;
#     SIGTERM stops the server and the script (exit 0), the port is free.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${SQUALL_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
build=$(cd "${SQUALL_BUILD_DIR:-$src/build}" && pwd)
export SQUALL_BUILD_DIR=$build SQUALL_DEMO_BUILD=0
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.out "$tmp"/*.err; do
    [[ -f $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  exit 1
}
# Wait until file holds a line matching pattern (the script writes it).
wait_for() { # file pattern seconds
  local deadline=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2> /dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# A server holding a port: the demo itself on port 0.
"$build/demo" --quiet --port 0 > "$tmp/holder.out" 2> "$tmp/holder.err" &
pids+=($!)
wait_for "$tmp/holder.out" "listening on" 30 || fail "the demo did not start"
port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/holder.out")

echo "--- port $port taken"
rc=0
timeout 60 "$src/scripts/demo.sh" --port "$port" > "$tmp/busy.out" 2> "$tmp/busy.err" || rc=$?
[[ $rc == 1 ]] || fail "exit status $rc, want 1"
grep -q "Address already in use" "$tmp/busy.err" || fail "the server's reason is not shown"
grep -q "scripts/demo.sh: the HTTP demo failed to start" "$tmp/busy.err" || fail "no message of its own"
! grep -q "Try" "$tmp/busy.out" || fail "printed Try lines for a server that did not start"

echo "--- --port 0"
"$src/scripts/demo.sh" --port 0 > "$tmp/run.out" 2> "$tmp/run.err" &
script=$!
pids+=("$script")
wait_for "$tmp/run.out" "curl http://127.0.0.1:[0-9]*/hello" 30 || fail "no Try line"
banner=$(grep -n "listening on http://127.0.0.1:" "$tmp/run.out" | head -n1)
try=$(grep -n "curl http://127.0.0.1:[0-9]*/hello" "$tmp/run.out" | head -n1)
[[ -n $banner && ${banner%%:*} -lt ${try%%:*} ]] || fail "the Try line is not after the banner"
got=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/run.out")
url=$(sed -n 's|.*curl \(http://127.0.0.1:[0-9]*/hello\).*|\1|p' "$tmp/run.out" | head -n1)
[[ $url == "http://127.0.0.1:$got/hello" && $got != 0 ]] || fail "Try names $url, the server got port $got"
body=$(curl -sS --max-time 30 "$url")
[[ $body == "You requested /hello" ]] || fail "curl got '$body'"
wait_for "$tmp/run.err" "200 GET /hello (127.0.0.1)" 30 || fail "the request was not logged"

kill -TERM "$script"
rc=0
wait "$script" || rc=$?
[[ $rc == 0 ]] || fail "scripts/demo.sh ended with $rc after SIGTERM"
! curl -s --max-time 5 "$url" > /dev/null || fail "the server still answers after the script ended"
echo "OK: scripts/demo.sh reports a failed start, and prints Try lines once the server listens"
