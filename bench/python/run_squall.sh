#!/usr/bin/env bash
# run_squall.sh PYTHON NAME PORT -- exec one squall Python server (one
# process) serving the harness' hello apps.
# NAME: squall-native, squall-wsgi (application on the loop thread),
# squall-wsgi-t2 (on 2 pool threads), squall-asgi (asyncio + uvloop, squall's
# loop inside it), squall-asgi-lt (squall's loop on a thread of its own).
set -euo pipefail
py=$1 name=$2 port=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
apps=${SQUALL_SHARED_BENCH:-$here/../../../shared/bench}/servers/python
cd "$apps"
case "$name" in
  squall-native) exec "$py" "$here/hello_native.py" "$port" ;;
  squall-wsgi) exec "$py" -m squall.wsgi hello_apps:wsgi --port "$port" --threads 0 --log-level warning ;;
  squall-wsgi-t2) exec "$py" -m squall.wsgi hello_apps:wsgi --port "$port" --threads 2 --log-level warning ;;
  squall-asgi) exec "$py" -m squall.asgi hello_apps:asgi --port "$port" --lifespan off --log-level warning ;;
  squall-asgi-lt) exec "$py" -m squall.asgi hello_apps:asgi --port "$port" --lifespan off --log-level warning --loop-thread ;;
  *) echo "unknown server $name" >&2; exit 2 ;;
esac
