#!/usr/bin/env bash
# scripts/demo.sh -- install what is missing, build, and start the demo on
# 127.0.0.1 in the foreground (Ctrl-C stops it).
#
#   scripts/demo.sh                  http://127.0.0.1:8888/
#   scripts/demo.sh --port 9000      extra arguments go to the server
#   scripts/demo.sh --xheaders       (HTTP demo only)
#
# The HTTP demo (examples/demo.c) runs when it is built; otherwise the line
# echo server (examples/tcp_echo.c).  Same environment as scripts/test.sh
# (SQUALL_BUILD_DIR, SQUALL_SANITIZE); the Go and Rust toolchains are not
# needed for the demo unless SQUALL_BINDINGS=ON.  The "Try: curl ..." lines
# are printed once the server says it listens (with the port it got); if it
# does not start, its own message is followed by this script's, exit 1.
# SQUALL_DEMO_START_TIMEOUT (30 s) bounds the wait for it to listen;
# SQUALL_DEMO_BUILD=0 starts what is built without installing or building
# (tests/integration/test_demo_sh.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ ! ${SQUALL_DEMO_BUILD:-1} =~ ^(0|OFF|off|no|false)$ ]]; then
  SQUALL_BINDINGS=${SQUALL_BINDINGS:-OFF} "$root/scripts/test.sh" --build-only
fi

if [[ -n ${SQUALL_BUILD_DIR:-} ]]; then
  build=$SQUALL_BUILD_DIR
elif [[ ${SQUALL_SANITIZE:-0} =~ ^(1|ON|on|yes|true)$ ]]; then
  build=build-asan
else
  build=build
fi

# Which server: the HTTP demo, else the line echo server.
if [[ -x $build/demo ]]; then
  name="HTTP demo"
  exe=$build/demo
elif [[ -x $build/tcp_echo ]]; then
  name="line echo server"
  exe=$build/tcp_echo
else
  echo "scripts/demo.sh: no demo binary in $build (did the build fail? see above)" >&2
  exit 1
fi

# Start it in the background with its stdout on a pipe, and say how to talk
# to it only once it has printed "listening on ..." (its port, also when
# --port 0 was asked for).  The server's stderr (the access log) goes
# straight to this terminal.
tmp=$(mktemp -d)
mkfifo "$tmp/out"
"$exe" --address 127.0.0.1 --port 8888 "$@" > "$tmp/out" &
pid=$!
exec 3< "$tmp/out"
rm -rf "$tmp"
# Without job control a background command ignores SIGINT: pass Ctrl-C on.
trap 'kill -TERM "$pid" 2> /dev/null || true' INT TERM

banner=""
if ! IFS= read -r -t "${SQUALL_DEMO_START_TIMEOUT:-30}" banner <&3 ||
  [[ $banner != *"listening on "* ]]; then
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null || true
    echo "scripts/demo.sh: the $name did not report listening within" \
      "${SQUALL_DEMO_START_TIMEOUT:-30} s${banner:+ (it printed: $banner)}; stopped it" >&2
  fi
  rc=0
  wait "$pid" || rc=$?
  echo "scripts/demo.sh: the $name failed to start ($exe, exit status $rc); its" \
    "message is above. Port in use? Try: scripts/demo.sh --port 9000" >&2
  exit 1
fi

# "listening on http://127.0.0.1:8888/" or "tcp_echo: listening on 127.0.0.1:8888"
where=${banner##*listening on }
where=${where#http://}
where=${where%/}
echo "$banner"
echo
if [[ $exe == */demo ]]; then
  echo "The $name is listening. Try, from another terminal:"
  echo "  curl http://$where/hello"
  echo "  curl -d 'some body' http://$where/echo"
  echo "Each request is logged below (--quiet: no access log; --log-format json)."
else
  echo "The $name is listening. Try, from another terminal:"
  echo "  printf 'hi\\n' | nc -q1 ${where%:*} ${where##*:}"
fi
echo "Ctrl-C stops it."
echo
cat <&3 & # whatever else it prints on stdout
rc=0
wait "$pid" || rc=$?
# A trapped signal interrupts wait: wait again until the server has ended.
while kill -0 "$pid" 2> /dev/null; do
  rc=0
  wait "$pid" || rc=$?
done
# 130 / 143: stopped by Ctrl-C / SIGTERM through the trap: a normal end.
[[ $rc == 0 || $rc == 130 || $rc == 143 ]] || exit "$rc"
