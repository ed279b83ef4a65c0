"""The demo's behaviour in each form: GET -> "You requested <uri>",
POST/PUT /echo -> the body back."""


def native_demo(req):
    if req.method in ("POST", "PUT") and req.path == "/echo":
        req.respond(200, {"Content-Type": "application/octet-stream"}, req.body)
    else:
        req.respond(200, {"Content-Type": "text/plain"}, "You requested " + req.uri)


def wsgi_demo(environ, start_response):
    path = environ["PATH_INFO"]
    if environ["REQUEST_METHOD"] in ("POST", "PUT") and path == "/echo":
        n = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(n) if n else environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    uri = path + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
    body = ("You requested " + uri).encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


async def asgi_demo(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            await send({"type": msg["type"] + ".complete"})
            if msg["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if scope["method"] in ("POST", "PUT") and scope["path"] == "/echo":
        out = body
    else:
        qs = scope["query_string"].decode()
        out = ("You requested " + scope["path"] + ("?" + qs if qs else "")).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": out})
