"""squall's ASGI server (ASGI 3, HTTP and lifespan).

    python -m squall.asgi module:app [--host 127.0.0.1] [--port 8000] [--lifespan auto|on|off]

The application runs on an asyncio loop (uvloop when installed).  squall's
loop runs inside it, on the same thread: asyncio watches the descriptor
libevent polls and runs one non-blocking pass of squall's loop when it is
readable, so a request goes from squall's parser to the application's task
with no thread hop.  Where that descriptor cannot be found (it is read from
/proc: the C ABI has no call for it yet), or with --loop-thread, squall's
loop runs on a thread of its own and hands requests over in batches (one
wake-up of the asyncio loop per pass).  The scope is built in C in one pass
over the request.  ``http.response.body`` with more_body waits for the
bytes to reach the kernel before send() returns (backpressure).

Not yet: the WebSocket scope (squall_request_detach gives the stream; the
protocol is to be written), request bodies streamed while they arrive
(the body comes whole, as one http.request message).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import sys
import threading
from typing import Any, Awaitable, Callable, Optional

from . import FINISH, Loop, Request, Server, log
from .wsgi import command_line

__all__ = ["ASGIServer", "serve", "main"]

_MODE_ASGI = 2


class _Exchange:
    """receive / send of one HTTP request."""

    __slots__ = ("req", "aloop", "soon", "body_sent", "status", "headers", "started", "done",
                 "disconnected", "_disc_fut")

    def __init__(self, req: Request, aloop: asyncio.AbstractEventLoop, soon: Callable) -> None:
        self.req = req
        self.aloop = aloop
        self.soon = soon  # call_soon (embedded) or call_soon_threadsafe
        self.body_sent = False  # the http.request message was given
        self.status = 0
        self.headers = None
        self.started = False
        self.done = False
        self.disconnected = False
        self._disc_fut: Optional[asyncio.Future] = None

    async def receive(self) -> dict:
        if not self.body_sent:
            self.body_sent = True
            req = self.req
            return {"type": "http.request", "body": req.body if not req.finished else b"",
                    "more_body": False}
        # Nothing more will arrive: wait for the end of the exchange.
        if not self.disconnected and not self.done:
            if self._disc_fut is None:
                self._disc_fut = self.aloop.create_future()
                soon, fut = self.soon, self._disc_fut

                def on_done(status: int) -> None:  # loop thread
                    soon(_resolve, fut)

                try:
                    if self.req.finished or not self.req.on_done(on_done):
                        _resolve(fut)
                except Exception:  # on_done already registered / finished
                    _resolve(fut)
            await self._disc_fut
        self.disconnected = True
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        t = message["type"]
        req = self.req
        if t == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.status = message["status"]
            self.headers = message.get("headers") or []
            if message.get("trailers"):
                raise RuntimeError("squall: response trailers are not supported")
            return
        if t == "http.response.body":
            if not self.started:
                raise RuntimeError("http.response.body before http.response.start")
            if self.done:
                raise RuntimeError("http.response.body after the response ended")
            body = message.get("body", b"")
            more = message.get("more_body", False)
            status, headers = self.status, self.headers
            if status:
                self.status, self.headers = 0, None
            if not more:
                self.done = True
                req.send(status, headers, body, FINISH)
                return
            if not req.send(status, headers, body, 0):
                self.disconnected = True
                return
            # backpressure: on to the next chunk once these bytes are out
            fut = self.aloop.create_future()
            soon = self.soon

            def flushed(st: int) -> None:  # loop thread
                soon(_set, fut, st)

            if not req.flush(flushed):
                self.disconnected = True
                return
            if await fut < 0:
                self.disconnected = True
            return
        raise RuntimeError(f"squall: unsupported ASGI message {t!r}")


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _set(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


class ASGIServer(Server):
    """An ASGI 3 application served by squall (HTTP; lifespan in serve())."""

    def __init__(self, app: Callable[..., Awaitable[None]], aloop: asyncio.AbstractEventLoop,
                 loop: Optional[Loop] = None, *, host: str = "127.0.0.1", port: int = 8000,
                 root_path: str = "", embedded: bool = False, **options: Any) -> None:
        self.app = app
        self.aloop = aloop
        # embedded: squall's loop is driven by the asyncio loop's thread
        # (serve_async), so requests arrive on the asyncio thread.
        self.embedded = embedded
        self._soon = aloop.call_soon if embedded else aloop.call_soon_threadsafe
        self.template = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": "http",
            "root_path": root_path,
            "server": (host, port),
            "state": {},
        }
        # Python 3.12+: run each request's coroutine eagerly up to its first
        # real wait (a hello world finishes without a trip through the
        # asyncio queue), as a proper Task (current_task() works).
        if sys.version_info >= (3, 12):
            self._create_task = functools.partial(asyncio.Task, loop=aloop, eager_start=True)
        else:
            self._create_task = aloop.create_task
        self._pending: collections.deque = collections.deque()
        self._scheduled = False
        self.tasks: set = set()
        super().__init__(self._on_request, loop, _mode=_MODE_ASGI, _template=self.template,
                         **options)

    def listen(self, port: int = 8000, host: Optional[str] = "127.0.0.1") -> int:
        bound = super().listen(port, host)
        self.template["server"] = (host or "0.0.0.0", bound)
        return bound

    # squall's loop thread, GIL held
    def _on_request(self, req: Request, scope: dict) -> None:
        scope["state"] = dict(scope["state"])
        if self.embedded:  # on the asyncio thread already
            t = self._create_task(self._run(req, scope))
            self.tasks.add(t)
            t.add_done_callback(self.tasks.discard)
            return
        self._pending.append((req, scope))
        if not self._scheduled:
            self._scheduled = True
            self.aloop.call_soon_threadsafe(self._drain)

    # asyncio thread
    def _drain(self) -> None:
        self._scheduled = False
        pending = self._pending
        create = self._create_task
        tasks = self.tasks
        while pending:
            req, scope = pending.popleft()
            t = create(self._run(req, scope))
            tasks.add(t)
            t.add_done_callback(tasks.discard)

    async def _run(self, req: Request, scope: dict) -> None:
        ex = _Exchange(req, self.aloop, self._soon)
        try:
            await self.app(scope, ex.receive, ex.send)
        except BaseException as exc:  # noqa: B902 -- a 500, never a crash
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.handler_failed(req, exc)
            return
        if not req.finished:
            if ex.started and ex.status == 0:
                req.send(0, None, None, FINISH)  # head sent: end it
            elif ex.started:
                req.send(ex.status, ex.headers, None, FINISH)
            else:
                self.handler_failed(req, RuntimeError("the ASGI application sent no response"))


class _Lifespan:
    def __init__(self, app: Callable, state: dict, mode: str) -> None:
        self.app = app
        self.state = state
        self.mode = mode
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.startup_done = asyncio.Event()
        self.shutdown_done = asyncio.Event()
        self.failed: Optional[str] = None
        self.unsupported = False
        self.task: Optional[asyncio.Task] = None

    async def _main(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        try:
            await self.app(scope, self.inbox.get, self._send)
        except BaseException as exc:  # noqa: B902
            if not self.startup_done.is_set():
                self.unsupported = True
                if self.mode == "on":
                    self.failed = f"lifespan: {exc!r}"
                    log.error("ASGI lifespan failed", exc_info=exc)
            else:
                log.error("ASGI lifespan failed", exc_info=exc)
        finally:
            self.startup_done.set()
            self.shutdown_done.set()

    async def _send(self, message: dict) -> None:
        t = message["type"]
        if t == "lifespan.startup.complete":
            self.startup_done.set()
        elif t == "lifespan.startup.failed":
            self.failed = message.get("message", "") or "startup failed"
            self.startup_done.set()
        elif t in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if t.endswith("failed"):
                log.error("ASGI lifespan shutdown failed: %s", message.get("message", ""))
            self.shutdown_done.set()

    async def startup(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._main())
        await self.inbox.put({"type": "lifespan.startup"})
        await self.startup_done.wait()

    async def shutdown(self) -> None:
        if self.unsupported or self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.shutdown_done.wait()


def _embeddable_loop() -> tuple:
    """A new Loop and the epoll descriptor libevent made for it (found as
    the one new "anon_inode:[eventpoll]" in /proc/self/fd), or None.

    The C ABI has no call that returns it yet (squall_loop_fd is the
    addition this asks for); without it, the ASGI server falls back to a
    loop thread and a hand-over per batch of requests."""
    def polls() -> set:
        out = set()
        try:
            for name in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:[eventpoll]":
                        out.add(int(name))
                except OSError:
                    pass
        except OSError:
            pass
        return out

    before = polls()
    loop = Loop()
    new = polls() - before
    return loop, (new.pop() if len(new) == 1 else None)


async def _tick(loop: Loop) -> None:
    while True:
        await asyncio.sleep(0.1)
        loop.run_once()


async def serve_async(app: Callable, host: str = "127.0.0.1", port: int = 8000,
                      lifespan: str = "auto", ready: Optional[Callable[[int], None]] = None,
                      stop: Optional[asyncio.Event] = None, embed: Optional[bool] = None,
                      **options: Any) -> None:
    """Serve on the running asyncio loop until `stop` is set (or SIGINT /
    SIGTERM in the main thread).  ready(port) is called once listening.

    embed None/True: run squall's loop inside the asyncio loop (one thread,
    no hand-over) when its poll descriptor can be found, else on a thread
    of its own; False: always on a thread of its own."""
    aloop = asyncio.get_running_loop()
    state: dict = {}
    ls = None
    if lifespan != "off":
        ls = _Lifespan(app, state, lifespan)
        await ls.startup()
        if ls.failed:
            raise RuntimeError(f"ASGI lifespan startup failed: {ls.failed}")
    loop, efd = _embeddable_loop() if embed is not False else (Loop(), None)
    server = ASGIServer(app, aloop, loop, host=host, port=port, embedded=efd is not None,
                        **options)
    server.template["state"] = state
    stop = stop or asyncio.Event()
    try:
        bound = server.listen(port, host)
        if threading.current_thread() is threading.main_thread():
            import signal

            for s in (signal.SIGINT, signal.SIGTERM):
                try:
                    aloop.add_signal_handler(s, stop.set)
                except (NotImplementedError, RuntimeError):
                    pass
        tick = None
        if efd is not None:
            # squall's loop runs inside asyncio's: whenever its epoll fd is
            # readable, and every 0.1 s for its timers (timeouts), which do
            # not wake that fd in a non-blocking pass.
            aloop.add_reader(efd, loop.run_once)
            tick = aloop.create_task(_tick(loop))
        else:
            loop.start_thread()
        log.info("squall ASGI on http://%s:%d%s", host, bound,
                 "" if efd is not None else " (loop thread)")
        if ready is not None:
            ready(bound)
        await stop.wait()
        # graceful: let requests in flight finish (up to 10 s)
        finished = asyncio.Event()
        server.shutdown(10.0, lambda st: aloop.call_soon_threadsafe(finished.set))
        try:
            await asyncio.wait_for(finished.wait(), 11)
        except asyncio.TimeoutError:
            pass
        if server.tasks:
            await asyncio.wait(list(server.tasks), timeout=1)
    finally:
        if efd is not None:
            aloop.remove_reader(efd)
            if tick is not None:
                tick.cancel()
        loop.join_thread()
        server.close()
        loop.close()
        if ls is not None:
            await ls.shutdown()


def serve(app: Callable, host: str = "127.0.0.1", port: int = 8000, lifespan: str = "auto",
          **options: Any) -> None:
    """Serve an ASGI application until SIGINT / SIGTERM (uvloop if present)."""
    try:
        import uvloop  # type: ignore

        runner = uvloop.run if hasattr(uvloop, "run") else None
    except ImportError:
        runner = None
    coro = serve_async(app, host, port, lifespan, **options)
    if runner is not None:
        runner(coro)
    else:
        asyncio.run(coro)


def main(argv: Optional[list] = None) -> None:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lifespan", choices=["auto", "on", "off"], default="auto")
        p.add_argument("--loop-thread", action="store_true",
                       help="run squall's loop on a thread of its own")

    app, args, opts = command_line("python -m squall.asgi", __doc__, argv, add)
    if args.loop_thread:
        opts["embed"] = False
    serve(app, args.host, args.port, args.lifespan, **opts)


if __name__ == "__main__":
    main()
