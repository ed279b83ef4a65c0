"""SIGTERM under load: 16 clients open a new connection per request
(GET /sleep?ms=20, so requests are always in flight) against build/demo
with two loops; after 1.5 s the demo gets SIGTERM.  Every request whose
connection was established must get a complete 200 -- including those
still in the listen queue when the drain began (the server takes them
before closing its socket) -- and the process must exit 0 within the grace
period.  A connect refused after the listener closed is not a loss.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
BUILD = os.environ.get("SQUALL_BUILD_DIR",
                       os.path.join(os.path.dirname(__file__), "..", "..", "build"))
demo = subprocess.Popen([os.path.join(BUILD, "demo"), "--port", "0", "--threads", "2",
                         "--grace-ms", "5000", "--quiet"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(re.search(r":(\d+)/", demo.stdout.readline()).group(1))

lock = threading.Lock()
stats = {"ok": 0, "refused": 0, "lost": []}
stop = threading.Event()


def client():
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            with lock:
                stats["refused"] += 1
            time.sleep(0.01)
            continue
        try:
            s.sendall(b"GET /sleep?ms=20 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            ok = data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nslept\n")
            with lock:
                if ok:
                    stats["ok"] += 1
                else:
                    stats["lost"].append(data[:80])
        except OSError as e:
            with lock:
                stats["lost"].append(repr(e))
        finally:
            s.close()


threads = [threading.Thread(target=client) for _ in range(16)]
for t in threads:
    t.start()
time.sleep(1.5)
before = stats["ok"]
t0 = time.monotonic()
demo.send_signal(signal.SIGTERM)
try:
    demo.wait(10)
except subprocess.TimeoutExpired:
    demo.kill()
exit_s = time.monotonic() - t0
time.sleep(0.3)
stop.set()
for t in threads:
    t.join()

sl.report("sigterm_load", served=stats["ok"], served_before_signal=before,
          refused_after=stats["refused"], lost=len(stats["lost"]),
          exit_s="%.2f" % exit_s, exit_code=demo.returncode)
assert not stats["lost"], stats["lost"][:5]
assert demo.returncode == 0, demo.returncode
assert exit_s < 5, exit_s
assert before > 100, before
