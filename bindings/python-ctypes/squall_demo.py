#!/usr/bin/env python3
"""squall_demo.py -- the seed's demo server in pure Python over libsquall's C
ABI through ctypes: no compiler, no generated code, one file.

    GET <any path>        -> 200 text/plain "You requested <uri>\\n"
    POST|PUT /echo        -> 200 with exactly the request body
    HEAD                  -> as GET without the body

The library is found by name: $SQUALL_LIB if set, else "libsquall.so.0"
(the SONAME) through the dynamic loader's usual search (LD_LIBRARY_PATH,
the ld.so cache, the default directories), else whatever
ctypes.util.find_library("squall") names.  squall_version()'s major
number is checked before any other call.

Flags: --address ADDR (127.0.0.1)  --port N (8888; 0 = ephemeral)
       --test-routes: also the routes the tests use (see examples/dlopen_demo.c:
       /headers, /fail, /later?ms=N, /hold, /stats).
The loop runs on its own thread; SIGINT/SIGTERM stop it.  On the way out the
server is freed while held requests are pending, then they are ended.
"""

import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import threading
import traceback

ABI_MAJOR = 0  # SQUALL_VERSION_MAJOR this file was written against

# Values from squall.h (ABI: append-only).
SQUALL_NTS = ctypes.c_size_t(-1).value
SQUALL_ECLOSED = -6
REQ_METHOD, REQ_URI, REQ_PATH, REQ_QUERY = 1, 2, 3, 4
ERRKIND_APPLICATION = 6
SEND_FINISH = 2
STAT_CONNECTIONS_OPEN, STAT_COUNT = 1, 14


def load_library():
    names = [os.environ.get("SQUALL_LIB"), "libsquall.so.0",
             ctypes.util.find_library("squall")]
    errors = []
    for name in names:
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            errors.append(str(e))
    raise SystemExit("squall_demo: cannot load libsquall: " + "; ".join(errors))


lib = load_library()
lib.squall_version.restype = ctypes.c_uint32
lib.squall_version.argtypes = []
if lib.squall_version() >> 16 != ABI_MAJOR:
    raise SystemExit("squall_demo: libsquall is ABI major %d, this file needs %d"
                     % (lib.squall_version() >> 16, ABI_MAJOR))

P = ctypes.c_void_p
SIZE = ctypes.c_size_t
CP = ctypes.POINTER(ctypes.c_char_p)


class Header(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("name_len", SIZE),
                ("value", ctypes.c_char_p), ("value_len", SIZE)]


HANDLER = ctypes.CFUNCTYPE(None, P, P)
RELEASE = ctypes.CFUNCTYPE(None, P)
CALLBACK = ctypes.CFUNCTYPE(None, P)
DONE = ctypes.CFUNCTYPE(None, ctypes.c_int, P)
ERROR_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, P, SIZE, P,
                              SIZE, P)


def declare(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


I = ctypes.c_int
declare("squall_version_string", ctypes.c_char_p)
declare("squall_last_error", ctypes.c_char_p)
declare("squall_loop_new", I, ctypes.POINTER(P))
declare("squall_loop_run", I, P)
declare("squall_loop_run_once", I, P, I)
declare("squall_loop_stop", I, P)
declare("squall_loop_free", I, P)
declare("squall_loop_call_later", I, ctypes.POINTER(P), P, ctypes.c_int64,
        CALLBACK, P, RELEASE)
declare("squall_server_new", I, ctypes.POINTER(P), P, P, HANDLER, P, RELEASE)
declare("squall_server_set_error_hook", I, P, ERROR_HOOK, P, RELEASE)
declare("squall_server_listen", I, P, ctypes.c_char_p, SIZE, I)
declare("squall_server_port", I, P, ctypes.POINTER(ctypes.c_uint16))
declare("squall_server_stats", I, P, ctypes.POINTER(ctypes.c_uint64), SIZE)
declare("squall_server_free", None, P)
declare("squall_request_get", I, P, I, ctypes.POINTER(P), ctypes.POINTER(SIZE))
declare("squall_request_header", I, P, ctypes.c_char_p, SIZE, SIZE,
        ctypes.POINTER(P), ctypes.POINTER(SIZE))
declare("squall_request_body", I, P, ctypes.POINTER(P), ctypes.POINTER(SIZE))
declare("squall_request_on_done", I, P, DONE, P)
declare("squall_respond", I, P, I, ctypes.c_char_p, SIZE, ctypes.c_char_p,
        SIZE)
declare("squall_response_send", I, P, I, ctypes.POINTER(Header), SIZE,
        ctypes.c_char_p, SIZE, ctypes.c_uint)


def last_error():
    return lib.squall_last_error().decode("utf-8", "replace")


def field(req, which):
    p, n = P(), SIZE()
    lib.squall_request_get(req, which, ctypes.byref(p), ctypes.byref(n))
    return ctypes.string_at(p, n.value) if n.value else b""


def header(req, name):
    p, n = P(), SIZE()
    if lib.squall_request_header(req, name, len(name), 0, ctypes.byref(p),
                                 ctypes.byref(n)) != 0:
        return None
    return ctypes.string_at(p, n.value) if n.value else b""


def body(req):
    p, n = P(), SIZE()
    lib.squall_request_body(req, ctypes.byref(p), ctypes.byref(n))
    return ctypes.string_at(p, n.value) if n.value else b""


def respond(req, status, content_type, data):
    ct = content_type.encode() if content_type else None
    return lib.squall_respond(req, status, ct, len(ct) if ct else 0, data,
                              len(data))


def send(req, status, headers, data):
    arr = (Header * len(headers))()
    for i, (k, v) in enumerate(headers):
        arr[i] = Header(k, len(k), v, len(v))
    return lib.squall_response_send(req, status, arr, len(headers), data,
                                    len(data), SEND_FINISH)


class Demo:
    def __init__(self, test_routes):
        self.test_routes = test_routes
        self.loop = P()
        self.srv = P()
        self.live_requests = 0
        self.live_timers = {}  # id -> [request, fired], until the release
        self.held = []
        self.done_ok = self.done_closed = 0
        self.server_released = self.hook_released = 0
        # The C side holds these function pointers: keep them referenced.
        self.c_handler = HANDLER(self.handle)
        self.c_release = RELEASE(self.on_server_release)
        self.c_hook = ERROR_HOOK(self.on_error_hook)
        self.c_hook_release = RELEASE(self.on_hook_release)
        self.c_done = DONE(self.on_done)
        self.c_later = CALLBACK(self.on_later)
        self.c_later_release = RELEASE(self.on_later_release)
        self.next_timer = 1

    # -- hooks and release callbacks -------------------------------------
    def error_hook(self, kind, status, msg, peer=""):
        sys.stderr.write("error hook: kind=%d status=%d peer=%s: %s\n"
                         % (kind, status, peer, msg))
        sys.stderr.flush()

    def on_error_hook(self, kind, status, msg, msg_len, peer, peer_len, _ud):
        self.error_hook(kind, status,
                        ctypes.string_at(msg, msg_len).decode("utf-8", "replace"),
                        ctypes.string_at(peer, peer_len).decode("utf-8", "replace")
                        if peer_len else "")

    def on_hook_release(self, _ud):
        self.hook_released += 1

    def on_server_release(self, _ud):
        self.server_released += 1

    def on_done(self, status, _ud):
        self.live_requests -= 1
        if status == 0:
            self.done_ok += 1
        else:
            self.done_closed += 1

    def on_later(self, ud):
        respond(self.live_timers[ud][0], 200, "text/plain", b"later\n")
        self.live_timers[ud][1] = True

    def on_later_release(self, ud):
        # A timer cancelled by the loop's free still ends its request.
        req, fired = self.live_timers.pop(ud)
        if not fired:
            respond(req, 503, None, b"")

    # -- the handler -------------------------------------------------------
    def handle(self, req, _ud):
        if lib.squall_request_on_done(req, self.c_done, None) == 0:
            self.live_requests += 1
        try:
            self.serve(req)
        except Exception:  # a failing handler: 500, traceback to the hook
            self.error_hook(ERRKIND_APPLICATION, 500,
                            "handler failed:\n" + traceback.format_exc())
            respond(req, 500, "text/plain", b"Internal Server Error\n")

    def serve(self, req):
        method = field(req, REQ_METHOD)
        path = field(req, REQ_PATH)
        uri = field(req, REQ_URI)
        if method in (b"POST", b"PUT") and path == b"/echo":
            respond(req, 200, "application/octet-stream", body(req))
            return
        if method in (b"GET", b"HEAD"):
            if self.test_routes and self.test_route(req, path):
                return
            respond(req, 200, "text/plain", b"You requested " + uri + b"\n")
            return
        send(req, 405, [(b"Allow", b"GET, HEAD, POST, PUT"),
                        (b"Content-Type", b"text/plain")],
             b"Method Not Allowed\n")

    def test_route(self, req, path):
        if path == b"/headers":
            send(req, 200, [(b"X-Echo-Back", header(req, b"X-Echo") or b""),
                            (b"Content-Type", b"text/plain")], b"headers\n")
        elif path == b"/fail":
            raise RuntimeError("the /fail route failed on purpose")
        elif path == b"/later":
            query = field(req, REQ_QUERY)
            ms = int(query[3:]) if query.startswith(b"ms=") else 50
            tid = self.next_timer
            self.next_timer += 1
            self.live_timers[tid] = [req, False]
            if lib.squall_loop_call_later(None, self.loop, ms, self.c_later,
                                          tid, self.c_later_release) != 0:
                del self.live_timers[tid]
                raise RuntimeError(last_error())
        elif path == b"/hold":
            self.held.append(req)
        elif path == b"/stats":
            st = (ctypes.c_uint64 * STAT_COUNT)()
            lib.squall_server_stats(self.srv, st, STAT_COUNT)
            text = ("requests %d\ntimers %d\nheld %d\nconnections %d\n"
                    "objects %d\n" % (self.live_requests - 1,
                                      len(self.live_timers), len(self.held),
                                      st[STAT_CONNECTIONS_OPEN],
                                      len(gc.get_objects())))
            respond(req, 200, "text/plain", text.encode())
        else:
            return False
        return True

    # -- life cycle --------------------------------------------------------
    def start(self, address, port):
        if (lib.squall_loop_new(ctypes.byref(self.loop)) != 0 or
                lib.squall_server_new(ctypes.byref(self.srv), self.loop, None,
                                      self.c_handler, None,
                                      self.c_release) != 0 or
                lib.squall_server_set_error_hook(self.srv, self.c_hook, None,
                                                 self.c_hook_release) != 0):
            raise SystemExit("squall_demo: " + last_error())
        a = address.encode()
        if lib.squall_server_listen(self.srv, a, len(a), port) != 0:
            raise SystemExit("squall_demo: listen %s:%d: %s"
                             % (address, port, last_error()))
        bound = ctypes.c_uint16()
        lib.squall_server_port(self.srv, ctypes.byref(bound))
        return bound.value

    def run(self):
        lib.squall_loop_run(self.loop)  # returns after squall_loop_stop

    def stop(self):
        lib.squall_loop_stop(self.loop)  # [any thread]

    def free(self):
        lib.squall_server_free(self.srv)  # held requests still pending
        for req in self.held:
            rc = respond(req, 200, None, b"")
            if rc != SQUALL_ECLOSED:
                sys.stderr.write("squall_demo: held request answered with %d\n"
                                 % rc)
        lib.squall_loop_run_once(self.loop, 0)
        lib.squall_loop_free(self.loop)
        print("freed: server released %d, hook released %d, held %d, "
              "done ok %d, done closed %d, live requests %d"
              % (self.server_released, self.hook_released, len(self.held),
                 self.done_ok, self.done_closed, self.live_requests),
              flush=True)


def main(argv):
    address, port, test_routes = "127.0.0.1", 8888, False
    args = iter(argv[1:])
    for a in args:
        if a == "--address":
            address = next(args)
        elif a == "--port":
            port = int(next(args))
        elif a == "--test-routes":
            test_routes = True
        else:
            sys.stderr.write("usage: %s [--address ADDR] [--port N] "
                             "[--test-routes]\n" % argv[0])
            return 2
    demo = Demo(test_routes)
    bound = demo.start(address, port)
    loop_thread = threading.Thread(target=demo.run, name="squall-loop")
    stop = threading.Event()

    def on_signal(_sig, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    loop_thread.start()
    print("listening on http://%s:%d/ (libsquall %s, loaded with ctypes)"
          % (address, bound, lib.squall_version_string().decode()), flush=True)
    while not stop.wait(3600):
        pass
    demo.stop()
    loop_thread.join()
    demo.free()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
