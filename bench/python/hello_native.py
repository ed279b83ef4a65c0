"""squall's native Python API serving the harness' hello world (same body
and headers as ../../../shared/bench/servers/python/hello_apps.py):
hello_native.py PORT."""
import sys

import squall

BODY = b"Hello, world!\n"
HEADERS = [("Content-Type", "text/plain")]  # squall adds Content-Length


def hello(req: squall.Request) -> None:
    req.respond(200, HEADERS, BODY)


squall.serve(hello, port=int(sys.argv[1]), error_hook=None)
