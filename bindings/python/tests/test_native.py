"""The native API (squall.Server / Request / Response) against real
clients on 127.0.0.1."""
import asyncio
import gc
import http.client
import os
import socket
import sys
import threading
import time

import squall
from apps import native_demo
from conftest import count_responses, fetch as get, live_requests, raw_exchange, wait_for

MIB = 1024 * 1024


def test_native__get(native):
    s = native(native_demo)
    r, body = get(s.port, "GET", "/hello%20there?x=1&y=2")
    assert r.status == 200
    assert body == b"You requested /hello%20there?x=1&y=2"
    assert r.getheader("Content-Type") == "text/plain"
    assert r.getheader("Content-Length") == str(len(body))


def test_native__request_fields(native):
    seen = {}

    def handler(req):
        seen.update(method=req.method, uri=req.uri, path=req.path, query=req.query,
                    version=req.version, host=req.host, remote_ip=req.remote_ip,
                    protocol=req.protocol, args=req.arguments, qargs=req.query_arguments,
                    cookies=req.cookies, full_url=req.full_url)
        req.respond(204)

    s = native(handler)
    r, _ = get(s.port, "GET", "/p?a=1&a=2&b=%C3%A9", headers={"Cookie": "k=v; z=1"})
    assert r.status == 204
    assert seen["method"] == "GET" and seen["path"] == "/p" and seen["query"] == "a=1&a=2&b=%C3%A9"
    assert seen["version"] == "HTTP/1.1" and seen["remote_ip"] == "127.0.0.1"
    assert seen["protocol"] == "http" and seen["host"] == f"127.0.0.1:{s.port}"
    assert seen["args"] == {"a": ["1", "2"], "b": ["\u00e9"]}
    assert seen["cookies"] == {"k": "v", "z": "1"}
    assert seen["full_url"] == f"http://127.0.0.1:{s.port}/p?a=1&a=2&b=%C3%A9"


def test_native__post_echo_10mib(native):
    s = native(native_demo)
    payload = os.urandom(10 * MIB)
    r, body = get(s.port, "POST", "/echo", body=payload)
    assert r.status == 200
    assert len(body) == len(payload) and body == payload


def test_native__chunked_upload(native):
    s = native(native_demo)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    parts = [b"a" * 1000, b"b" * 70000, b"c"]
    c.request("PUT", "/echo", body=iter(parts), encode_chunked=True,
              headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"".join(parts)
    c.close()


def test_native__multipart_form(native):
    seen = {}

    def handler(req):
        seen["files"] = req.files
        seen["body_args"] = req.body_arguments
        req.respond(200, None, b"ok")

    s = native(handler)
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nfile-bytes\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n"
            f"--{boundary}--\r\n").encode()
    r, _ = get(s.port, "POST", "/up", body=body,
               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status == 200
    f = seen["files"]["f"][0]
    assert (f.filename, f.content_type, f.body) == ("a.txt", "text/plain", b"file-bytes")
    assert seen["body_args"] == {"k": ["v"]}


def test_native__streamed_request_body(native):
    pieces = {}

    def on_headers(req):
        if req.path == "/small":
            req.set_max_body_size(10)
            return
        if req.path == "/early":
            req.respond(403, None, b"no")
            return
        sizes = pieces.setdefault(req.uri, [])
        req.stream_body(lambda data: sizes.append(len(data)))

    def handler(req):
        sizes = pieces.get(req.uri, [])
        req.respond(200, None, b"%d pieces, %d bytes, body %d" % (len(sizes), sum(sizes), len(req.body)))

    s = native(handler, headers_hook=on_headers)
    payload = b"p" * (1024 * 1024)
    r, body = get(s.port, "POST", "/up?1", body=payload)
    assert r.status == 200
    n, total = body.split(b" pieces, ")[0], body.split(b", ")[1]
    assert int(n) > 1 and total == b"%d bytes" % len(payload) and body.endswith(b"body 0")
    r, body = get(s.port, "POST", "/small", body=b"x" * 100)
    assert r.status == 413
    r, body = get(s.port, "POST", "/early", body=b"x" * 100)
    assert (r.status, body) == (403, b"no")


def test_native__headers_in_and_out(native):
    seen = {}

    def handler(req):
        h = req.headers
        seen["x"] = h["X-Thing"]
        seen["list"] = h.get_list("x-multi")
        seen["joined"] = h["X-MULTI"]
        seen["missing"] = h.get("nope", "dflt")
        seen["contains"] = "x-thing" in h
        req.respond(201, [("X-Out", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], b"")

    s = native(handler)
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Thing: yes\r\nX-Multi: 1\r\nx-multi: 2\r\n\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        resp += sock.recv(4096)
    sock.close()
    assert seen == {"x": "yes", "list": ["1", "2"], "joined": "1,2", "missing": "dflt",
                    "contains": True}
    head = resp.decode("latin-1")
    assert head.startswith("HTTP/1.1 201 Created\r\n")
    assert "X-Out: 1\r\n" in head and "Set-Cookie: a=1\r\n" in head and "Set-Cookie: b=2\r\n" in head


def test_native__bad_header_raises_error(native):
    errors = []

    def handler(req):
        try:
            req.respond(200, [("Bad Name", "x")], b"")
        except squall.Error as exc:
            errors.append(exc)
            req.respond(400, None, b"bad")

    s = native(handler)
    r, body = get(s.port, "GET", "/")
    assert r.status == 400 and body == b"bad"
    assert errors and errors[0].code == squall._squall.SQUALL_EINVAL
    assert "header" in errors[0].message.lower()


def test_native__keep_alive_reuse(native):
    s = native(native_demo)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.connect()
    first = c.sock
    for i in range(5):
        r, body = get(s.port, "GET", f"/{i}", conn=c)
        assert body == f"You requested /{i}".encode()
        assert c.sock is first
    c.close()
    assert s.server.stats()["connections_accepted"] == 1


def test_native__pipelining(native):
    s = native(native_demo)
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(20))
    buf = raw_exchange(s.port, reqs, 20)
    assert count_responses(buf) == 20
    bodies = [part.split(b"\r\n\r\n", 1)[1][:20] for part in buf.split(b"HTTP/1.1 ")[1:]]
    assert [b.split(b"HTTP")[0] for b in bodies] == [b"You requested /%d" % i for i in range(20)]


def test_native__handler_exception_500_and_error_hook(native):
    hook = []

    def handler(req):
        if req.path == "/boom":
            raise ZeroDivisionError("on purpose")
        native_demo(req)

    s = native(handler, error_hook=lambda *a: hook.append(a))
    r, body = get(s.port, "GET", "/boom")
    assert r.status == 500
    r, body = get(s.port, "GET", "/after")
    assert r.status == 200 and body == b"You requested /after"
    kind, status, msg, peer = hook[0]
    assert kind == squall.ERRKIND_APPLICATION and status == 500
    assert "ZeroDivisionError: on purpose" in msg and peer == "127.0.0.1"


def test_native__library_errors_reach_the_hook(native):
    hook = []
    s = native(native_demo, error_hook=lambda *a: hook.append(a), max_body_size=10)
    r, _ = get(s.port, "POST", "/echo", body=b"x" * 100)
    assert r.status == 413
    deadline = time.time() + 5
    while not hook and time.time() < deadline:
        time.sleep(0.01)
    assert hook and hook[0][0] == squall.ERRKIND_LIMIT and hook[0][1] == 413


def test_native__respond_from_another_thread(native):
    def handler(req):
        threading.Thread(target=lambda: req.respond(200, None, b"from " + threading.current_thread().name.encode()),
                         name="worker").start()

    s = native(handler)
    r, body = get(s.port, "GET", "/")
    assert r.status == 200 and body == b"from worker"


def test_native__respond_from_asyncio_task(native):
    aloop = asyncio.new_event_loop()
    t = threading.Thread(target=aloop.run_forever, daemon=True)
    t.start()

    async def answer(req):
        await asyncio.sleep(0.01)
        resp = req.response(200, {"Content-Type": "text/plain"})
        resp.write(b"async ")
        await resp.drain()
        resp.finish(b"done")

    def handler(req):
        asyncio.run_coroutine_threadsafe(answer(req), aloop)

    s = native(handler)
    try:
        r, body = get(s.port, "GET", "/")
        assert r.status == 200 and body == b"async done"
    finally:
        aloop.call_soon_threadsafe(aloop.stop)
        t.join()
        aloop.close()


def test_native__streaming_response_with_backpressure(native):
    chunk = b"z" * 65536

    def handler(req):
        resp = req.response(200, {"Content-Type": "application/octet-stream"})
        left = [64]

        def more(status=0):
            if status < 0:
                resp.abort()
                return
            if left[0] == 0:
                resp.finish()
                return
            left[0] -= 1
            resp.write(chunk)
            resp.flush(more)

        more()

    s = native(handler)
    r, body = get(s.port, "GET", "/big")
    assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked"
    assert len(body) == 64 * 65536


def test_native__client_disconnect_mid_response(native):
    done = threading.Event()
    statuses = []
    chunk = b"y" * 65536

    def handler(req):
        if req.path != "/stream":
            return native_demo(req)
        resp = req.response(200)

        def more(status=0):
            statuses.append(status)
            if status < 0 or not resp.write(chunk) or not resp.flush(more):
                resp.abort()
                done.set()

        more()

    s = native(handler)
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(1000).startswith(b"HTTP/1.1 200")
    sock.close()
    assert done.wait(10), "the flush callback never saw the disconnect"
    assert statuses[-1] < 0
    # the server is fine afterwards
    r, body = get(s.port, "GET", "/x")
    assert r.status == 200 and body == b"You requested /x"
    assert wait_for(lambda: s.server.stats()["connections_open"] == 0)
    assert wait_for(lambda: live_requests() == 0), "a request object leaked"


def test_native__dropped_request_is_answered(native):
    def handler(req):
        pass  # never answered: when Python drops it, squall answers 500

    s = native(handler)
    r, _ = get(s.port, "GET", "/")
    assert r.status == 500


def test_native__finished_request_raises(native):
    seen = []

    def handler(req):
        req.respond(200, None, b"ok")
        try:
            req.method
        except squall.Error as exc:
            seen.append(str(exc))

    s = native(handler)
    r, _ = get(s.port, "GET", "/")
    assert r.status == 200 and seen and "finished" in seen[0]


def _rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_native__20000_requests_no_leak(native):
    def handler(req):
        req.respond(200, [("Content-Type", "text/plain")], b"x" * 100)

    s = native(handler)
    sock = socket.create_connection(("127.0.0.1", s.port))
    batch = b"GET /leak?a=1 HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n" * 100

    def run(n):
        for _ in range(n // 100):
            sock.sendall(batch)
            buf = b""
            while count_responses(buf) < 100:
                buf += sock.recv(1 << 20)

    run(2000)  # warm up: pools, caches, interned strings
    gc.collect()
    objs0, rss0, refs0 = len(gc.get_objects()), _rss_kib(), sys.getrefcount(handler)
    run(20000)
    gc.collect()
    objs1, rss1, refs1 = len(gc.get_objects()), _rss_kib(), sys.getrefcount(handler)
    sock.close()
    assert s.server.stats()["requests"] >= 22000
    assert refs1 == refs0, "references to the handler leaked"
    assert objs1 - objs0 < 200, f"gc objects grew by {objs1 - objs0}"
    assert rss1 - rss0 < 4096, f"RSS grew by {rss1 - rss0} KiB"


def test_native__loop_call_soon_and_timers():
    loop = squall.Loop()
    order = []
    loop.call_soon(lambda: order.append("soon"))
    loop.call_later(0.01, lambda: (order.append("later"), loop.stop()))
    loop.run()
    assert order == ["soon", "later"]
    loop.close()
