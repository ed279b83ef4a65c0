"""Descriptor exhaustion: a server limited to 128 descriptors meets a flood
of 1,000 connections.  While it is out of descriptors it must not spin (its
CPU time over the 3 s the flood is held stays under 20% of one core), and
once the flood goes it must serve again at once.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
FLOOD = 1000
HOLD = 3.0
sl.raise_nofile(FLOOD + 256)

srv = sl.Server(options={1: 2048}, nofile=128)  # backlog beyond the limit
try:
    s = sl.connect(srv.port)
    assert sl.get(s)[0] == 200
    s.close()
    flood = []
    refused = 0
    for _ in range(FLOOD):
        try:
            f = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            f.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # a head never finished
            flood.append(f)
        except OSError:
            refused += 1
    fds_during = srv.fds()
    cpu0, t0 = srv.cpu_seconds(), time.monotonic()
    time.sleep(HOLD)  # the measurement window, not synchronisation
    cpu_share = (srv.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    for f in flood:
        f.close()
    t = time.monotonic()

    def served():
        try:
            c = sl.connect(srv.port, timeout=1)
            ok = sl.get(c)[0] == 200
            c.close()
            return ok
        except OSError:
            return False

    ok = sl.wait_until(served, 10)
    recovery = time.monotonic() - t
    sl.report("fd_exhaustion", nofile=128, flood=FLOOD, client_refused=refused,
              server_fds_during=fds_during, cpu_share_during=cpu_share,
              recovered=ok, recovery_s=recovery)
    assert cpu_share < 0.2, "server busy while out of descriptors: %.0f%%" % (cpu_share * 100)
    assert ok, "server not serving after the flood"
    assert srv.alive()
finally:
    assert srv.stop() == 0
