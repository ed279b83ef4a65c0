"""The generated layer (bindings/swig/squall.i) on its own: every C
function under its C name, callables where C takes callbacks, out
parameters as results, negative codes as squall.Error.  The Lua binding
shares these typemaps."""
import gc
import http.client
import socket
import sys
import threading

import pytest

import squall
from squall import _squall as c


def test_swig__errors_raise_with_code_and_message():
    cfg = c.squall_config_new()
    try:
        with pytest.raises(squall.Error) as ei:
            c.squall_config_set_int(cfg, 9999, 1)
        assert ei.value.code == c.SQUALL_ENOTSUP
        assert ei.value.message
        assert c.squall_config_set_int(cfg, c.SQUALL_OPT_MAX_BODY_SIZE, 1234) is None
        assert c.squall_config_get_int(cfg, c.SQUALL_OPT_MAX_BODY_SIZE) == 1234
    finally:
        c.squall_config_free(cfg)
    assert c.squall_strerror(c.SQUALL_EINVAL)
    assert c.squall_version() >> 16 == c.SQUALL_VERSION_MAJOR


def test_swig__callables_are_released_exactly_once():
    class Fn:
        calls = 0

        def __call__(self, *args):
            Fn.calls += 1

    loop = c.squall_loop_new()
    once, every, cancelled = Fn(), Fn(), Fn()
    refs = [sys.getrefcount(f) for f in (once, every, cancelled)]
    c.squall_loop_call_soon(loop, once)
    t_every = c.squall_loop_call_every(loop, 1, every)
    t_never = c.squall_loop_call_later(loop, 60000, cancelled)
    c.squall_loop_call_later(loop, 20, lambda: c.squall_loop_stop(loop))
    c.squall_loop_run(loop)
    assert Fn.calls >= 2  # once + at least one tick
    c.squall_timer_free(t_every)
    c.squall_timer_free(t_never)
    c.squall_loop_free(loop)
    gc.collect()
    assert [sys.getrefcount(f) for f in (once, every, cancelled)] == refs


def test_swig__failed_registration_drops_the_reference():
    loop = c.squall_loop_new()
    fn = lambda: None  # noqa: E731
    before = sys.getrefcount(fn)
    with pytest.raises(squall.Error):
        c.squall_loop_call_every(loop, 0, fn)  # interval must be > 0
    assert sys.getrefcount(fn) == before
    with pytest.raises(TypeError):
        c.squall_loop_call_soon(loop, "not callable")
    c.squall_loop_free(loop)


def test_swig__raw_server_and_request_accessors():
    seen = {}
    access = []
    loop = c.squall_loop_new()

    def handler(req):  # a SWIG pointer to squall_request
        seen["method"] = c.squall_request_get(req, c.SQUALL_REQ_METHOD)
        seen["path"] = c.squall_request_get(req, c.SQUALL_REQ_PATH)
        seen["n"] = c.squall_request_header_count(req)
        seen["hdr"] = c.squall_request_header(req, "x-a", 0)
        seen["arg"] = c.squall_request_argument(req, c.SQUALL_ARGS_QUERY, "q", 0)
        seen["body"] = c.squall_request_body(req)
        c.squall_response_header(req, "X-Out", "yes")
        c.squall_respond(req, 201, "text/plain", b"raw ok")

    srv = c.squall_server_new(loop, None, handler)
    c.squall_server_set_access_hook(srv, lambda *a: access.append(a))
    c.squall_server_listen(srv, "127.0.0.1", 0)
    port = c.squall_server_port(srv)
    t = threading.Thread(target=c.squall_loop_run, args=(loop,))
    t.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/p?q=v", body=b"abc", headers={"X-A": "1"})
        r = conn.getresponse()
        assert (r.status, r.read(), r.getheader("X-Out")) == (201, b"raw ok", "yes")
        conn.close()
    finally:
        c.squall_loop_stop(loop)
        t.join()
    assert seen == {"method": "POST", "path": "/p", "n": 4, "hdr": "1", "arg": "v",
                    "body": b"abc"}
    assert c.squall_swig_server_stat(srv, c.SQUALL_STAT_REQUESTS) == 1
    method, target, status, nbytes, dur, peer = access[0]
    assert (method, target, status) == ("POST", "/p?q=v", 201) and nbytes > 0
    assert peer.startswith("127.0.0.1:")
    c.squall_server_free(srv)
    c.squall_loop_free(loop)


def test_swig__tcp_server_and_streams():
    loop = c.squall_loop_new()
    streams = []

    def on_stream(stream, peer):
        streams.append(stream)

        def got(status, data):
            if status == 0:
                c.squall_stream_write(stream, b"echo:" + data, None)
                c.squall_stream_read_until(stream, b"\n", 1024, got)

        c.squall_stream_read_until(stream, b"\n", 1024, got)

    srv = c.squall_tcp_server_new(loop, on_stream)
    c.squall_tcp_server_listen(srv, "127.0.0.1", 0)
    port = c.squall_tcp_server_port(srv)
    t = threading.Thread(target=c.squall_loop_run, args=(loop,))
    t.start()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"one\ntwo\n")
        buf = b""
        while buf.count(b"\n") < 2:
            buf += s.recv(100)
        assert buf == b"echo:one\necho:two\n"
        s.close()
    finally:
        c.squall_loop_stop(loop)
        t.join()
    assert c.squall_swig_stream_closed(streams[0]) in (0, 1)
    for st in streams:
        c.squall_stream_free(st)
    c.squall_tcp_server_free(srv)
    c.squall_loop_free(loop)


def test_swig__log_sink():
    lines = []
    c.squall_swig_set_log(c.SQUALL_LOG_DEBUG, lambda level, msg: lines.append((level, msg)))
    try:
        loop = c.squall_loop_new()
        srv = c.squall_server_new(loop, None, lambda req: c.squall_respond(req, 200, None, None))
        c.squall_server_listen(srv, "127.0.0.1", 0)
        c.squall_server_free(srv)
        c.squall_loop_free(loop)
    finally:
        c.squall_swig_set_log(c.SQUALL_LOG_WARNING, None)  # the default sink again
    assert all(isinstance(level, int) and isinstance(msg, str) for level, msg in lines)


def test_swig__poll_takes_requests_into_a_list():
    """Pull-style dispatch: this thread drives the loop with
    squall_loop_poll (the GIL released while it waits) and answers; a
    client thread makes keep-alive and pipelined requests."""
    loop = c.squall_loop_new()
    srv = c.squall_server_new_polled(loop, None)
    c.squall_server_listen(srv, "127.0.0.1", 0)
    port = c.squall_server_port(srv)
    got = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(3):
            conn.request("GET", f"/p{i}")
            r = conn.getresponse()
            got.append((r.status, r.read()))
        conn.close()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"".join(b"GET /q%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5)))
            buf = b""
            while buf.count(b"HTTP/1.1 200") < 5 or not buf.endswith(b"/q4"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            got.append(buf)

    t = threading.Thread(target=client)
    t.start()
    served = 0
    while served < 8:
        stopped, reqs = c.squall_loop_poll(loop, 100)
        assert stopped is False
        assert isinstance(reqs, list)
        for r in reqs:
            path = c.squall_request_get(r, c.SQUALL_REQ_PATH)
            c.squall_respond(r, 200, "text/plain", path)
            served += 1
    while t.is_alive():
        c.squall_loop_poll(loop, 20)
    t.join()
    assert got[:3] == [(200, b"/p0"), (200, b"/p1"), (200, b"/p2")]
    assert [got[3].count(b"/q%d" % i) for i in range(5)] == [1] * 5
    c.squall_loop_stop(loop)
    stopped, reqs = c.squall_loop_poll(loop, -1)
    assert stopped is True and reqs == []
    codes = []

    def other_thread():
        try:
            c.squall_loop_poll(loop, 0)
        except squall.Error as e:
            codes.append(e.code)

    th = threading.Thread(target=other_thread)
    th.start()
    th.join()
    assert codes == [c.SQUALL_ETHREAD]  # the loop is bound to this thread
    c.squall_server_free(srv)
    c.squall_loop_free(loop)
