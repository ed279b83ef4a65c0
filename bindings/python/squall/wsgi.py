"""squall's WSGI server (PEP 3333).

    python -m squall.wsgi module:app [--host 127.0.0.1] [--port 8000] [--threads 0]

``--threads 0`` runs the application on the loop thread, as bjoern does:
no thread hop, the fastest for applications that do not block.
``--threads N`` runs it on a pool of N threads (gunicorn's gthread
worker): the loop keeps reading, parsing and writing while applications
block; responses are handed back to the loop thread-safely.

The environ is built in C in one pass over the request (sqpy.c);
``wsgi.input`` holds the whole body (squall reads Content-Length and
chunked bodies before the application runs, up to max_body_size).
Iterable responses are streamed with backpressure: the next chunk is taken
only once the previous one reached the kernel.  ``close()`` is called in
every case, also when the client went away.
"""
from __future__ import annotations

import argparse
import importlib
import queue
import sys
import threading
from http import HTTPStatus
from typing import Any, Callable, Optional

from . import FINISH, Loop, Request, Server, log, run_until_signal

__all__ = ["WSGIServer", "serve", "main"]

_MODE_WSGI = 1
_MODE_WSGI_LOOP = 3

# "200 OK" -> (200, None); "299 Custom" -> (299, "Custom"): a reason of the
# application's own is sent as is, the standard one by squall.
_status_cache: dict = {}


def _parse_status(status: str) -> tuple:
    try:
        return _status_cache[status]
    except KeyError:
        pass
    if not isinstance(status, str) or len(status) < 3 or not status[:3].isdigit():
        raise ValueError(f"WSGI status must be a str like '200 OK', not {status!r}")
    code = int(status[:3])
    reason = status[4:]
    try:
        std = HTTPStatus(code).phrase
    except ValueError:
        std = None
    parsed = (code, None if reason == std or not reason else reason)
    if len(_status_cache) < 1000:
        _status_cache[status] = parsed
    return parsed


class FileWrapper:
    """wsgi.file_wrapper: the file read in blocks."""

    def __init__(self, filelike: Any, blksize: int = 65536) -> None:
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self) -> Any:
        read, size = self.filelike.read, self.blksize
        while True:
            data = read(size)
            if not data:
                return
            yield data


class _Exchange:
    """One request's start_response / write() state and response pump."""

    __slots__ = ("req", "status", "headers", "started", "result", "it", "server", "sr")

    def __init__(self, server: "WSGIServer", req: Request, sr: Any = None) -> None:
        self.server = server
        self.req = req
        self.status = None
        self.headers = None
        self.started = False  # head handed to squall
        self.result = None
        self.it = None
        # where status / headers / started live: here, or in the C
        # start_response of the loop-thread path (sqpy.c)
        self.sr = self if sr is None else sr

    def start_response(self, status: str, headers: list, exc_info: Any = None) -> Callable:
        if exc_info is not None:
            try:
                if self.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        if type(headers) is not list:
            raise TypeError("WSGI response headers must be a list")
        self.status = status
        self.headers = headers
        return self.write

    def _head(self) -> tuple:
        """(status code, headers) for the first send; (0, None) after."""
        sr = self.sr
        if sr.started:
            return 0, None
        if sr.status is None:
            raise AssertionError("the application sent a body before start_response")
        sr.started = True
        code, reason = _parse_status(sr.status)
        if reason is not None:
            self.req.set_status(code, reason)
            code = 0
        return code, sr.headers

    def write(self, data: bytes) -> None:
        """The legacy write() callable: data goes out before the
        iterable's.  Blocks for backpressure on a pool thread."""
        if type(data) is not bytes:
            raise TypeError("write() takes bytes")
        code, headers = self._head()
        if not self.req.send(code, headers, data, 0):
            return
        if self.server.threads:
            self._flush_wait()
        else:
            self.req.flush(None)

    def _flush_wait(self) -> bool:
        ev = threading.Event()
        res = [0]

        def done(status: int) -> None:
            res[0] = status
            ev.set()

        if not self.req.flush(done):
            return False
        ev.wait()
        return res[0] == 0

    # -- the response -------------------------------------------------------

    def run(self, environ: dict) -> None:
        """Call the application and send its response (any thread)."""
        req = self.req
        try:
            result = self.server.app(environ, self.start_response)
        except BaseException as exc:  # noqa: B902 -- a 500, never a crash
            self.server.handler_failed(req, exc)
            return
        self.result = result
        try:
            # The common case in one crossing: one body chunk.
            if type(result) is list and len(result) == 1 and not self.started:
                body = result[0]
                if self.status is None:
                    raise AssertionError("the application did not call start_response")
                code, headers = self._head()
                req.send(code, headers, body, FINISH)
                self.result = None  # a list has no close()
                return
            self.it = iter(result)
        except BaseException as exc:  # noqa: B902
            self._fail(exc)
            return
        if self.server.threads:
            self._pump_blocking()
        else:
            self._pump()

    def _pump(self, status: int = 0) -> None:
        """Loop thread: send chunks until one must wait for the kernel;
        the flush callback comes back here."""
        req = self.req
        if status < 0:  # the client went away
            self._end_closed()
            return
        try:
            for chunk in self.it:
                if not chunk:
                    continue
                code, headers = self._head()
                if not req.send(code, headers, chunk, 0):
                    self._end_closed()
                    return
                if not req.flush(self._pump):
                    self._end_closed()
                    return
                return
            self._finish()
        except BaseException as exc:  # noqa: B902
            self._fail(exc)

    def _pump_blocking(self) -> None:
        req = self.req
        try:
            for chunk in self.it:
                if not chunk:
                    continue
                code, headers = self._head()
                if not req.send(code, headers, chunk, 0) or not self._flush_wait():
                    self._end_closed()
                    return
            self._finish()
        except BaseException as exc:  # noqa: B902
            self._fail(exc)

    def _finish(self) -> None:
        if self.sr.status is None:
            raise AssertionError("the application did not call start_response")
        code, headers = self._head()
        self.req.send(code, headers, None, FINISH)
        self._close()

    def _end_closed(self) -> None:
        if not self.req.finished:
            self.req.abort()
        self._close()

    def _fail(self, exc: BaseException) -> None:
        self.server.handler_failed(self.req, exc)
        self._close()

    def _close(self) -> None:
        result, self.result = self.result, None
        self.it = None
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:  # noqa: B902
                self.server.report(exc)


class WSGIServer(Server):
    """A WSGI application served by squall.

    ``threads=0``: the application runs on the loop thread.
    ``threads=N``: on N pool threads."""

    def __init__(self, app: Callable, loop: Optional[Loop] = None, *, threads: int = 0,
                 host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
        self.app = app
        self.threads = threads
        self.template = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": threads > 0,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "SCRIPT_NAME": "",
            "SERVER_NAME": host or "0.0.0.0",
            "SERVER_PORT": str(port),
        }
        self._queue: Optional[queue.SimpleQueue] = None
        self._workers: list = []
        if threads == 0:  # the application called from C on the loop thread
            handler: Any = (app, self._fallback)
            mode = _MODE_WSGI_LOOP
        else:
            handler, mode = self._enqueue, _MODE_WSGI
        super().__init__(handler, loop, _mode=mode, _template=self.template, **options)
        if threads > 0:
            self._queue = queue.SimpleQueue()
            for i in range(threads):
                t = threading.Thread(target=self._worker, name=f"squall-wsgi-{i}", daemon=True)
                t.start()
                self._workers.append(t)

    def listen(self, port: int = 8000, host: Optional[str] = "127.0.0.1") -> int:
        bound = super().listen(port, host)
        self.template["SERVER_PORT"] = str(bound)
        if host:
            self.template["SERVER_NAME"] = host
        return bound

    def report(self, exc: BaseException) -> None:
        log.error("WSGI close() raised", exc_info=exc)

    # loop thread, GIL held: sqpy.c called the application and could not
    # answer from C (not one bytes chunk, or an exception)
    def _fallback(self, req: Request, sr: Any, result: Any, exc: Optional[BaseException]) -> None:
        ex = _Exchange(self, req, sr)
        if exc is not None:
            self.handler_failed(req, exc)
            return
        ex.result = result
        try:
            ex.it = iter(result)
        except BaseException as e:  # noqa: B902
            ex._fail(e)
            return
        ex._pump()

    def _enqueue(self, req: Request, environ: dict) -> None:
        self._queue.put((req, environ))

    def _worker(self) -> None:
        get = self._queue.get
        while True:
            item = get()
            if item is None:
                return
            req, environ = item
            _Exchange(self, req).run(environ)
            del req, environ, item

    def close(self) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for t in self._workers:
            t.join()
        self._workers = []
        super().close()


def load_app(spec: str) -> Any:
    """"module:attr" (attr may be a dotted path or a call like create_app())."""
    mod_name, _, attr = spec.partition(":")
    mod = importlib.import_module(mod_name)
    if not attr:
        attr = "application" if hasattr(mod, "application") else "app"
    obj: Any = mod
    call = attr.endswith("()")
    for part in attr.rstrip("()").split("."):
        obj = getattr(obj, part)
    return obj() if call else obj


def serve(app: Callable, host: str = "127.0.0.1", port: int = 8000, threads: int = 0,
          **options: Any) -> None:
    """Serve a WSGI application until SIGINT / SIGTERM."""
    server = WSGIServer(app, threads=threads, host=host, port=port, **options)
    try:
        server.listen(port, host)
        log.info("squall WSGI on http://%s:%d (threads=%d)", host, server.port, threads)
        run_until_signal(server.loop)
    finally:
        server.close()


def command_line(prog: str, doc: str, argv: Optional[list],
                 add: Callable[[argparse.ArgumentParser], None]) -> tuple:
    """The options python -m squall.wsgi and squall.asgi share (gunicorn's
    and uvicorn's names); returns (application, parsed args, server options)."""
    p = argparse.ArgumentParser(prog=prog, description=doc.strip().split("\n")[0])
    p.add_argument("app", help="module:attribute of the application")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-body-size", type=int, default=None, help="bytes (default 100 MiB)")
    p.add_argument("--no-keep-alive", action="store_true")
    p.add_argument("--log-level", default="info")
    add(p)
    args = p.parse_args(argv)
    sys.path.insert(0, ".")
    import logging

    logging.basicConfig(level=args.log_level.upper(), format="%(name)s: %(message)s")
    opts: dict = {}
    if args.max_body_size is not None:
        opts["max_body_size"] = args.max_body_size
    if args.no_keep_alive:
        opts["no_keep_alive"] = 1
    return load_app(args.app), args, opts


def main(argv: Optional[list] = None) -> None:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("--threads", type=int, default=0,
                       help="0: run the application on the loop thread; N: on N threads")

    app, args, opts = command_line("python -m squall.wsgi", __doc__, argv, add)
    serve(app, args.host, args.port, args.threads, **opts)


if __name__ == "__main__":
    main()
