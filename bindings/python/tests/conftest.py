"""Fixtures: real squall servers on 127.0.0.1 (port 0), each on its own
loop thread, stopped and freed after the test."""
import asyncio
import http.client
import socket
import threading

import pytest

import squall
from squall import asgi as sq_asgi
from squall import wsgi as sq_wsgi


class Started:
    def __init__(self, server, port):
        self.server = server
        self.port = port
        self.base = f"http://127.0.0.1:{port}"


def _loop_thread_servers(make):
    """A fixture body: start(app_or_handler, **options) -> Started, each
    server on its own loop thread, closed at teardown."""
    servers = []

    def start(*args, **options):
        srv = make(*args, **options)
        port = srv.listen(0)
        srv.loop.start_thread()
        servers.append(srv)
        return Started(srv, port)

    return servers, start


@pytest.fixture
def native():
    """native(handler, **options) -> Started; the loop runs on a thread."""
    servers, start = _loop_thread_servers(squall.Server)
    yield start
    _close_all(servers)


@pytest.fixture
def wsgi():
    """wsgi(app, threads=0, **options) -> Started."""
    servers, start = _loop_thread_servers(sq_wsgi.WSGIServer)
    yield start
    _close_all(servers)


def _close_all(servers):
    for srv in servers:
        srv.close()


@pytest.fixture(params=[None, False], ids=["embedded", "loop-thread"])
def asgi(request):
    """asgi(app, lifespan="auto") -> Started; asyncio runs on a thread, with
    squall's loop inside it (embedded) or on a thread of its own."""
    running = []
    embed = request.param

    def start(app, lifespan="auto", **options):
        ready = threading.Event()
        box = {}

        def run():
            async def main():
                box["stop"] = asyncio.Event()
                box["aloop"] = asyncio.get_running_loop()
                await sq_asgi.serve_async(app, "127.0.0.1", 0, lifespan,
                                          ready=lambda p: (box.__setitem__("port", p), ready.set()),
                                          stop=box["stop"], embed=embed, **options)

            try:
                asyncio.run(main())
            except BaseException as exc:  # reported by the test
                box["error"] = exc
            finally:
                ready.set()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        assert ready.wait(10), "ASGI server did not start"
        if "error" in box:
            raise box["error"]
        running.append((t, box))
        started = Started(None, box["port"])
        started.stop = lambda: stop(t, box)
        return started

    def stop(t, box):
        if t.is_alive():
            box["aloop"].call_soon_threadsafe(box["stop"].set)
            t.join(15)
        assert not t.is_alive(), "ASGI server did not stop"
        if "error" in box:
            raise box["error"]

    yield start
    for t, box in running:
        stop(t, box)


def raw_exchange(port, data, expect_responses, timeout=5.0):
    """Send raw bytes, read until expect_responses complete responses
    (Content-Length framed) arrived or the peer closed; return the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while count_responses(buf) < expect_responses:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf
    finally:
        s.close()


def count_responses(buf):
    n = 0
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            return n
        head = buf[:head_end].decode("latin-1").lower()
        length = 0
        for line in head.split("\r\n"):
            if line.startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if len(buf) < head_end + 4 + length:
            return n
        buf = buf[head_end + 4 + length:]
        n += 1


def fetch(port, method, path, body=None, headers=None, conn=None):
    """One request with http.client (on conn if given, kept open);
    returns (response, body bytes)."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if conn is None:
        c.close()
    return r, data


def live_requests():
    """squall.Request objects alive in this process (after a collection)."""
    import gc

    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, squall.Request))


def wait_for(pred, timeout=5.0):
    """Poll pred() until true or timeout (for effects on another thread
    that have no event to wait on); returns the last value."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(0.01)
