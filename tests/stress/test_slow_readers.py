"""Slow readers: clients that pipeline requests for large answers and never
read cannot grow the server's memory past a fixed bound each.

HTTP1Connection stops reading a client once 256 KiB of answers wait in its
write buffer (its max_write_buffer_size, kOutHigh in connection.h), so a
client's cost is that, plus one answer being built, plus the pipelined
bytes read but not parsed.  N clients each send 400 requests for 64 KiB
(25 MiB of answers each, 1 GiB in all if nothing held them back); the
server's RSS growth once it settles must stay under N x 1 MiB.  A normal
client is served meanwhile.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
N = 40
PIPELINED = 400
ANSWER = 65536
BOUND_PER_CONN = 1 << 20

srv = sl.Server()
try:
    # Warm the allocator with one large answer so RSS counts connections.
    s = sl.connect(srv.port)
    sl.get(s, "/big?%d" % ANSWER)
    rss0 = srv.rss_bytes()
    req = ("GET /big?%d HTTP/1.1\r\nHost: a\r\n\r\n" % ANSWER).encode()
    readers = []
    for _ in range(N):
        r = sl.connect(srv.port)
        r.sendall(req * PIPELINED)
        readers.append(r)

    # Settled: the server's CPU time stops moving (all it could write is
    # written, every reader is paused).
    def settled(state={"cpu": -1.0}):
        cpu = srv.cpu_seconds()
        still = cpu == state["cpu"]
        state["cpu"] = cpu
        return still

    t = time.monotonic()
    assert sl.wait_until(settled, 30, step=0.5), "server never settled"
    t_settle = time.monotonic() - t
    rss1 = srv.rss_bytes()
    t = time.monotonic()
    status, body = sl.get(s, "/")
    normal_ms = (time.monotonic() - t) * 1000
    assert status == 200 and body == b"ok 0\n"
    growth = rss1 - rss0
    sl.report("slow_readers", readers=N, pipelined_each=PIPELINED, answer_bytes=ANSWER,
              unbounded_would_be_mib=N * PIPELINED * ANSWER >> 20,
              rss_growth_mib=growth / 2**20, per_reader_kib=growth / N / 1024,
              settle_s=t_settle, normal_client_ms=normal_ms)
    assert growth < N * BOUND_PER_CONN, "server memory grew %d bytes" % growth
    for r in readers:
        r.close()
    s.close()
finally:
    assert srv.stop() == 0
