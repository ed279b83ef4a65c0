"""10,000 concurrent keep-alive connections, each served twice.

All N connections are opened and held; a request goes out on every one of
them, every response is read and checked; then a second round on the same
connections proves they were kept alive.  Prints the connect and round
times, requests per second and the server's memory per connection.
SQUALL_STRESS_CONNS overrides N.
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
N = int(os.environ.get("SQUALL_STRESS_CONNS", "10000"))
need = N + 256
got = sl.raise_nofile(need)
if got < need:
    print("SKIP: RLIMIT_NOFILE hard limit %d < %d" % (got, need))
    sys.exit(sl.SKIP)

srv = sl.Server(options={1: 4096}, nofile=need)  # SQUALL_OPT_BACKLOG
try:
    rss0 = srv.rss_bytes()
    t0 = time.monotonic()
    socks = []
    for i in range(N):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        s.setblocking(False)
        socks.append(s)
    t_connect = time.monotonic() - t0
    ep = select.epoll(N)
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        ep.register(fd, select.EPOLLIN)

    def round_trip(tag):
        req = ("GET /%s HTTP/1.1\r\nHost: a\r\n\r\n" % tag).encode()
        want = b"ok 0\n"
        t = time.monotonic()
        for s in socks:
            s.send(req)  # 30 bytes always fit an empty socket buffer
        bufs = {}
        done = 0
        deadline = t + 120
        while done < N:
            if time.monotonic() > deadline:
                raise SystemExit("round %s: %d of %d answered in 120 s" % (tag, done, N))
            for fd, _ in ep.poll(1.0):
                d = by_fd[fd].recv(4096)
                if not d:
                    raise SystemExit("round %s: server closed a connection" % tag)
                b = bufs.get(fd, b"") + d
                bufs[fd] = b
                if b.endswith(b"\r\n\r\n" + want) or (b"\r\n\r\n" in b and b.split(b"\r\n\r\n", 1)[1] == want):
                    assert b.startswith(b"HTTP/1.1 200 "), b[:40]
                    done += 1
                    bufs[fd] = b""
        return time.monotonic() - t

    r1 = round_trip("one")
    fds_held = srv.fds()
    r2 = round_trip("two")
    rss1 = srv.rss_bytes()
    assert fds_held >= N, "server holds %d descriptors, want >= %d" % (fds_held, N)
    sl.report("keepalive_10k", connections=N, connect_s=t_connect, round1_s=r1, round2_s=r2,
              req_per_s=int(N / r2), server_fds=fds_held,
              server_rss_per_conn_bytes=int((rss1 - rss0) / N))
    for s in socks:
        s.close()
finally:
    assert srv.stop() == 0, "server exit status"
