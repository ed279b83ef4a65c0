"""The examples (the seed's demo in each form) behave as the C demo."""
import http.client
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))


def check_demo(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/some/where?x=1")
    r = c.getresponse()
    assert (r.status, r.read()) == (200, b"You requested /some/where?x=1\n")
    c.request("PUT", "/echo", body=b"\x00binary\xff" * 1000)
    r = c.getresponse()
    assert (r.status, r.read()) == (200, b"\x00binary\xff" * 1000)
    c.close()


def test_examples__native(native):
    import demo_native

    check_demo(native(demo_native.handle).port)


def test_examples__flask(wsgi):
    pytest.importorskip("flask")
    import demo_flask

    check_demo(wsgi(demo_flask.app).port)


def test_examples__starlette(asgi):
    pytest.importorskip("starlette")
    import demo_starlette

    check_demo(asgi(demo_starlette.app).port)
