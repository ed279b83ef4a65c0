"""The seed's demo on squall's native Python API:
GET <any path> -> "You requested <uri>"; POST|PUT /echo -> the body back.

    python demo_native.py [port]
"""
import sys

import squall


def handle(req: squall.Request) -> None:
    if req.method in ("POST", "PUT") and req.path == "/echo":
        req.respond(200, {"Content-Type": "application/octet-stream"}, req.body)
    elif req.method in ("GET", "HEAD"):
        req.respond(200, {"Content-Type": "text/plain"}, f"You requested {req.uri}\n")
    else:
        req.respond(405, {"Allow": "GET, HEAD, POST, PUT", "Content-Type": "text/plain"},
                    "Method Not Allowed\n")


if __name__ == "__main__":
    squall.serve(handle, port=int(sys.argv[1]) if len(sys.argv) > 1 else 8888)
