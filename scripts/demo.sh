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
# needed for the demo unless SQUALL_BINDINGS=ON.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

SQUALL_BINDINGS=${SQUALL_BINDINGS:-OFF} "$root/scripts/test.sh" --build-only

if [[ -n ${SQUALL_BUILD_DIR:-} ]]; then
  build=$SQUALL_BUILD_DIR
elif [[ ${SQUALL_SANITIZE:-0} =~ ^(1|ON|on|yes|true)$ ]]; then
  build=build-asan
else
  build=build
fi

# What the user asked for (the servers take the last --address/--port).
address=127.0.0.1
port=8888
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --address) address=${args[i + 1]:-$address} ;;
    --port) port=${args[i + 1]:-$port} ;;
  esac
done
host=$address
[[ $host == *:* ]] && host="[$host]"

echo
if [[ -x $build/demo ]]; then
  echo "Starting the HTTP demo ($build/demo). Try, from another terminal:"
  echo "  curl http://$host:$port/hello"
  echo "  curl -d 'some body' http://$host:$port/echo"
  [[ $port == 0 ]] && echo "  (port 0: use the port it prints below)"
  echo "Ctrl-C stops it."
  echo
  exec "$build/demo" --address 127.0.0.1 --port 8888 "$@"
elif [[ -x $build/tcp_echo ]]; then
  echo "Starting the line echo server ($build/tcp_echo). Try, from another terminal:"
  echo "  printf 'hi\\n' | nc -q1 $address $port"
  [[ $port == 0 ]] && echo "  (port 0: use the port it prints below)"
  echo "Ctrl-C stops it."
  echo
  exec "$build/tcp_echo" --address 127.0.0.1 --port 8888 "$@"
else
  echo "scripts/demo.sh: no demo binary in $build (build failed?)" >&2
  exit 1
fi
