"""The WSGI server: PEP 3333 conformance (wsgiref.validate), Flask
unchanged, in both modes (application on the loop thread, and on a pool)."""
import http.client
import os
import socket
import threading
from wsgiref.validate import validator

import pytest

from apps import wsgi_demo
from conftest import count_responses, fetch, live_requests, raw_exchange, wait_for

MODES = [0, 4]


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__validated_get_and_post(wsgi, threads):
    s = wsgi(validator(wsgi_demo), threads=threads)
    r, body = fetch(s.port, "GET", "/a%20b?q=1")
    assert r.status == 200 and body == b"You requested /a b?q=1"
    payload = os.urandom(10 * 1024 * 1024)
    r, body = fetch(s.port, "POST", "/echo", body=payload)
    assert r.status == 200 and body == payload


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__environ(wsgi, threads):
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        seen["body"] = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    s = wsgi(validator(app), threads=threads)
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    c.request("PUT", "/p/x%2Fy?a=1", body=iter([b"ab", b"cd"]), encode_chunked=True,
              headers={"Content-Type": "text/x", "X-Custom": "v", "X_Under": "dropped",
                       "Transfer-Encoding": "chunked"})
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"ok"
    c.close()
    assert seen["REQUEST_METHOD"] == "PUT"
    assert seen["PATH_INFO"] == "/p/x/y" and seen["SCRIPT_NAME"] == ""
    assert seen["QUERY_STRING"] == "a=1"
    assert seen["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert seen["SERVER_PORT"] == str(s.port) and seen["SERVER_NAME"] == "127.0.0.1"
    assert seen["REMOTE_ADDR"] == "127.0.0.1"
    assert seen["CONTENT_TYPE"] == "text/x" and "HTTP_CONTENT_TYPE" not in seen
    assert seen["HTTP_X_CUSTOM"] == "v" and "HTTP_X_UNDER" not in seen
    assert seen["wsgi.url_scheme"] == "http" and seen["wsgi.version"] == (1, 0)
    assert seen["wsgi.multithread"] is (threads > 0)
    assert seen["body"] == b"abcd"


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__streamed_iterable_write_and_close(wsgi, threads):
    closed = threading.Event()

    class Body:
        def __init__(self):
            self.i = 0

        def __iter__(self):
            return self

        def __next__(self):
            self.i += 1
            if self.i > 50:
                raise StopIteration
            return b"%05d" % self.i * 1000

        def close(self):
            closed.set()

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"first;")
        return Body()

    s = wsgi(validator(app), threads=threads)
    r, body = fetch(s.port, "GET", "/")
    assert r.status == 200
    assert body == b"first;" + b"".join(b"%05d" % i * 1000 for i in range(1, 51))
    assert closed.wait(5)


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__exc_info_and_error(wsgi, threads):
    hook = []

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/raise":
            raise RuntimeError("app failure")
        try:
            raise ValueError("x")
        except ValueError:
            import sys

            start_response("200 OK", [("Content-Type", "text/plain")])
            start_response("599 Custom Reason", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]

    s = wsgi(app, threads=threads, error_hook=lambda *a: hook.append(a))
    r, body = fetch(s.port, "GET", "/")
    assert (r.status, r.reason, body) == (599, "Custom Reason", b"replaced")
    r, body = fetch(s.port, "GET", "/raise")
    assert r.status == 500 and "RuntimeError: app failure" in hook[0][2]
    r, body = fetch(s.port, "GET", "/a")
    assert r.status == 599


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__pipelining(wsgi, threads):
    s = wsgi(wsgi_demo, threads=threads)
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(32))
    buf = raw_exchange(s.port, reqs, 32)
    assert count_responses(buf) == 32
    got = [int(p.split(b"You requested /")[1][:2].rstrip(b"H")) for p in buf.split(b"HTTP/1.1 200")[1:]]
    assert got == list(range(32))


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__client_disconnect_calls_close(wsgi, threads):
    closed = threading.Event()

    def gen():
        try:
            while True:
                yield b"x" * 65536
        finally:
            pass

    class Endless:
        def __iter__(self):
            return gen()

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Endless()

    s = wsgi(app, threads=threads)
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(1000).startswith(b"HTTP/1.1 200")
    sock.close()
    assert closed.wait(10), "close() was not called after the client left"
    assert wait_for(lambda: live_requests() == 0), "a request object outlived its exchange"
    assert wait_for(lambda: s.server.stats()["connections_open"] == 0)


@pytest.mark.parametrize("threads", MODES)
def test_wsgi__flask_unchanged(wsgi, threads):
    flask = pytest.importorskip("flask")
    app = flask.Flask("demo")

    @app.route("/", defaults={"path": ""}, methods=["GET"])
    @app.route("/<path:path>", methods=["GET"])
    def index(path):
        return "You requested " + flask.request.full_path.rstrip("?")

    @app.route("/echo", methods=["POST", "PUT"])
    def echo():
        return flask.request.get_data(), 200, {"Content-Type": "application/octet-stream"}

    @app.route("/json", methods=["POST"])
    def js():
        return flask.jsonify(got=flask.request.get_json(), n=len(flask.request.args))

    s = wsgi(app, threads=threads)
    r, body = fetch(s.port, "GET", "/hello/world?x=1")
    assert r.status == 200 and body == b"You requested /hello/world?x=1"
    r, body = fetch(s.port, "PUT", "/echo", body=b"payload" * 1000)
    assert body == b"payload" * 1000
    r, body = fetch(s.port, "POST", "/json?a=1&b=2", body=b'{"k": [1, 2]}',
                    headers={"Content-Type": "application/json"})
    import json

    assert json.loads(body) == {"got": {"k": [1, 2]}, "n": 2}
    r, body = fetch(s.port, "GET", "/missing/../x")
    assert r.status == 200


def test_wsgi__command_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "cliapp.py").write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'cli ' + environ['PATH_INFO'].encode()]\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "squall.wsgi", "cliapp:app", "--port", str(port),
                             "--threads", "2"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # "squall WSGI on http://..." once listening
        assert "squall WSGI on" in line, line
        r, body = fetch(port, "GET", "/x")
        assert body == b"cli /x"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
