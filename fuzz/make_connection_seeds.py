#!/usr/bin/env python3
"""Writes fuzz/corpus/connection/: hand-made inputs for connection_fuzz.cc.

FuzzedDataProvider takes the client's bytes off the front of an input and
the choices (config, ops, handler modes) off the back, last byte first; an
input here is written as the bytes the client sends plus the list of
choices in the order the harness consumes them.
    python3 fuzz/make_connection_seeds.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
H = b"Host: a\r\n"
GET = b"GET /a HTTP/1.1\r\n" + H + b"\r\n"
POST_CL = b"POST /b HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello"
POST_TE = (b"POST /c HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
           b"3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: t\r\n\r\n")
HEAD = b"HEAD /d HTTP/1.1\r\n" + H + b"\r\n"
CLOSE = b"GET /e HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"
BURST = GET + POST_CL + POST_TE + HEAD + CLOSE
EXPECT = (b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
          b"Content-Length: 3\r\n\r\nabc")
LONG = (b"GET /" + b"a" * 100 + b" HTTP/1.1\r\n" + H + b"\r\n" +
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\n")
BIG_TE = POST_TE.replace(b"3;x=1\r\nabc", b"80\r\n" + b"x" * 128)
SMUGGLE = (GET + b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + GET)
HTTP10 = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + b"GET / HTTP/1.0\r\n\r\n"

# Modes of the handler (connection_fuzz.cc's enum Mode).
NOW, NOW_LENGTH, LATER, STREAMED, ABORT, NOW_CLOSE, BAD_LENGTH, STREAM_ABORT = range(8)


def u8(v):
    return [v & 0xFF]


def size(v):  # ConsumeIntegralInRange<size_t>(1, 512): two bytes, high first
    v -= 1
    return [(v >> 8) & 0xFF, v & 0xFF]


def send(n):
    return u8(0) + size(n)


RUN, READ, RELEASE, SHUT = u8(3), None, u8(5), u8(6)


def read(n):  # ConsumeIntegralInRange<size_t>(1, 65536): three bytes
    v = n - 1
    return u8(4) + [(v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF]


def seed(front, choices):
    return bytes(front) + bytes(reversed(choices))


def sends(total, step):
    out = []
    while total > 0:
        out += send(min(step, total)) + RUN
        total -= step
    return out


seeds = {
    # The burst in one write, every request answered at once.
    "burst_now": seed(BURST, u8(0) + send(len(BURST)) + RUN + [NOW] * 5),
    # The burst, answered later, streamed, with a length, with close.
    "burst_mixed": seed(BURST, u8(0) + send(len(BURST)) + RUN + [LATER] + RELEASE + RUN +
                       [STREAMED] + RELEASE + RUN + [NOW_LENGTH, NOW_CLOSE, NOW]),
    # A chunked POST a few bytes at a time, the client reading in between.
    "chunked_slow": seed(POST_TE + GET, u8(0) + sends(len(POST_TE + GET), 7) +
                         [NOW, NOW] + read(100)),
    # Headers hook on, answering before the body (then the body is dropped).
    "hook_early": seed(POST_CL + GET, u8(4) + send(len(POST_CL + GET)) + RUN + [0] + [1, NOW]),
    # 100-continue through the hook that does not answer.
    "expect": seed(EXPECT + GET, u8(4) + send(len(EXPECT + GET)) + RUN + [1, NOW, 1, NOW]),
    # Small limits: a head too large (431), a body too large (413).
    "limits": seed(LONG, u8(1) + send(len(LONG)) + RUN),
    "body_limit": seed(BIG_TE, u8(1) + send(len(BIG_TE)) + RUN),
    # Abort now, abort mid-stream, a broken Content-Length.
    "aborts": seed(GET + GET + GET, u8(0) + send(len(GET) * 3) + RUN + [STREAM_ABORT] +
                   RELEASE + RUN),
    "abort_now": seed(GET + GET, u8(0) + send(len(GET) * 2) + RUN + [ABORT]),
    "bad_length": seed(GET + GET, u8(0) + send(len(GET) * 2) + RUN + [BAD_LENGTH]),
    # A valid request, then a smuggling attempt (400 and close).
    "smuggle": seed(SMUGGLE, u8(0) + send(len(SMUGGLE)) + RUN + [NOW]),
    # A small pipe: responses held back until the client reads.
    "backpressure": seed(GET * 12, u8(2) + send(len(GET) * 12) + RUN + [NOW] * 4 + read(300) +
                         RUN + [NOW] * 4 + read(3000) + RUN + [NOW] * 4),
    # The client half-closes with a request held, and with one half sent.
    "half_close": seed(GET + GET[:10], u8(0) + send(len(GET) + 10) + RUN + [LATER] + SHUT +
                       RUN + RELEASE),
    "http10": seed(HTTP10, u8(0) + send(len(HTTP10)) + RUN + [STREAMED] + RELEASE + RUN + [NOW]),
}

out = os.path.join(HERE, "corpus", "connection")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
