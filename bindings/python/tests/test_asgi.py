"""The ASGI server: ASGI 3 HTTP and lifespan, Starlette unchanged."""
import asyncio
import http.client
import os
import socket
import threading

import pytest

from apps import asgi_demo
from conftest import count_responses, fetch, raw_exchange


def test_asgi__get_post_and_scope(asgi):
    scopes = []

    async def app(scope, receive, send):
        if scope["type"] == "http":
            scopes.append(scope)
        await asgi_demo(scope, receive, send)

    s = asgi(app)
    r, body = fetch(s.port, "GET", "/a%20b?x=1", headers={"X-Thing": "v"})
    assert r.status == 200 and body == b"You requested /a b?x=1"
    payload = os.urandom(10 * 1024 * 1024)
    r, body = fetch(s.port, "POST", "/echo", body=payload)
    assert body == payload
    sc = scopes[0]
    assert sc["type"] == "http" and sc["asgi"]["version"] == "3.0"
    assert sc["http_version"] == "1.1" and sc["method"] == "GET" and sc["scheme"] == "http"
    assert sc["path"] == "/a b" and sc["raw_path"] == b"/a%20b" and sc["query_string"] == b"x=1"
    assert (b"x-thing", b"v") in [tuple(h) for h in sc["headers"]]
    assert sc["client"][0] == "127.0.0.1" and sc["server"] == ("127.0.0.1", s.port)
    assert sc["root_path"] == ""


def test_asgi__chunked_upload_and_streamed_response(asgi):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            m = await receive()
            body += m.get("body", b"")
            more = m.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(10):
            await send({"type": "http.response.body", "body": body + b"%d;" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"end"})

    s = asgi(app, lifespan="off")
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("POST", "/", body=iter([b"ab", b"cd"]), encode_chunked=True,
              headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    assert r.status == 200
    assert r.read() == b"".join(b"abcd%d;" % i for i in range(10)) + b"end"


def test_asgi__lifespan(asgi):
    events = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                m = await receive()
                events.append(m["type"])
                if m["type"] == "lifespan.startup":
                    scope["state"]["db"] = "connected"
                await send({"type": m["type"] + ".complete"})
                if m["type"] == "lifespan.shutdown":
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})

    s = asgi(app, lifespan="on")
    assert events == ["lifespan.startup"]
    r, body = fetch(s.port, "GET", "/")
    assert body == b"connected"
    s.stop()
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_asgi__lifespan_startup_failure(asgi):
    async def app(scope, receive, send):
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="no database"):
        asgi(app, lifespan="on")


def test_asgi__error_500_and_server_keeps_serving(asgi):
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/boom":
            raise RuntimeError("boom")
        await asgi_demo(scope, receive, send)

    s = asgi(app, lifespan="off")
    r, _ = fetch(s.port, "GET", "/boom")
    assert r.status == 500
    r, body = fetch(s.port, "GET", "/ok")
    assert r.status == 200 and body == b"You requested /ok"


def test_asgi__pipelining(asgi):
    s = asgi(asgi_demo, lifespan="off")
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(16))
    buf = raw_exchange(s.port, reqs, 16)
    assert count_responses(buf) == 16
    got = [int(p.split(b"You requested /")[1][:2].rstrip(b"H")) for p in buf.split(b"HTTP/1.1 200")[1:]]
    assert got == list(range(16))


def test_asgi__disconnect(asgi):
    got = threading.Event()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await receive()  # the body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        m = await receive()  # blocks until the client leaves
        if m["type"] == "http.disconnect":
            got.set()

    s = asgi(app, lifespan="off")
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    sock.close()
    assert got.wait(10), "http.disconnect never came"


def test_asgi__starlette_unchanged(asgi):
    starlette = pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse, Response, StreamingResponse
    from starlette.routing import Route

    started = []

    async def index(request):
        return PlainTextResponse("You requested " + request.url.path +
                                 (("?" + request.url.query) if request.url.query else ""))

    async def echo(request):
        return Response(await request.body(), media_type="application/octet-stream")

    async def stream(request):
        async def gen():
            for i in range(5):
                await asyncio.sleep(0)
                yield b"part%d " % i
        return StreamingResponse(gen(), media_type="text/plain")

    def sync_view(request):  # runs in Starlette's thread pool
        return PlainTextResponse("sync " + request.query_params.get("q", ""))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        started.append("up")
        yield

    app = Starlette(routes=[Route("/echo", echo, methods=["POST", "PUT"]),
                            Route("/stream", stream), Route("/sync", sync_view),
                            Route("/{path:path}", index)], lifespan=lifespan)
    s = asgi(app, lifespan="on")
    assert started == ["up"]
    r, body = fetch(s.port, "GET", "/hello?x=1")
    assert r.status == 200 and body == b"You requested /hello?x=1"
    r, body = fetch(s.port, "PUT", "/echo", body=b"q" * 100000)
    assert body == b"q" * 100000
    r, body = fetch(s.port, "GET", "/stream")
    assert body == b"part0 part1 part2 part3 part4 "
    r, body = fetch(s.port, "GET", "/sync?q=z")
    assert body == b"sync z"


def test_asgi__loop_embeds_in_asyncio():
    from squall import asgi as sq_asgi

    loop, fd = sq_asgi._embeddable_loop()
    try:
        assert fd is not None and fd >= 0
    finally:
        loop.close()
