"""Body floods: with max_body_size 1 MiB, a body too large is refused with
413 without being buffered, whether its size is announced (Content-Length,
or a chunk's size line) or only found out (many small chunks).  The server's
memory growth over the flood stays within a few MiB.
"""
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stresslib as sl  # noqa: E402

sl.skip_if_disabled()
LIMIT = 1 << 20
srv = sl.Server(options={3: LIMIT})  # SQUALL_OPT_MAX_BODY_SIZE


def refused_at_head(head):
    s = sl.connect(srv.port)
    t = time.monotonic()
    s.sendall(head)
    status, _, _ = sl.read_response(s)
    ms = (time.monotonic() - t) * 1000
    s.close()
    return status, ms


def flood_chunks(chunk=4096, cap=256 << 20):
    """Small chunks until the server answers; returns (status, bytes sent)."""
    s = sl.connect(srv.port)
    s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"
    sent = 0
    s.setblocking(False)
    buf = b""
    while sent < cap:
        r, w, _ = select.select([s], [s], [], 5)
        if r:
            d = s.recv(65536)
            buf += d
            if not d or b"\r\n\r\n" in buf:
                break
        if w:
            try:
                sent += s.send(piece)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                break
    s.setblocking(True)
    s.settimeout(5)
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return int(buf.split()[1]) if buf else 0, sent


try:
    rss0 = srv.rss_bytes()
    cl_status, cl_ms = refused_at_head(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000000\r\n\r\n")
    big_status, big_ms = refused_at_head(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\n")
    small_status, small_sent = flood_chunks()
    ok_status = sl.get(sl.connect(srv.port))[0]
    rss1 = srv.rss_bytes()
    sl.report("body_flood", limit=LIMIT, content_length_status=cl_status, content_length_ms=cl_ms,
              big_chunk_status=big_status, big_chunk_ms=big_ms, small_chunks_status=small_status,
              small_chunks_sent_kib=small_sent >> 10, rss_growth_kib=(rss1 - rss0) >> 10)
    assert cl_status == 413 and big_status == 413 and small_status == 413
    assert small_sent < 64 * LIMIT, "the server read far past the limit"
    assert ok_status == 200
    assert rss1 - rss0 < 8 * LIMIT, "memory grew %d bytes" % (rss1 - rss0)
finally:
    assert srv.stop() == 0
