"""The seed's demo as a Starlette application, served by squall's ASGI
server:

    python -m squall.asgi demo_starlette:app --port 8888
"""
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def echo(request):
    return Response(await request.body(), media_type="application/octet-stream")


async def index(request):
    uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return PlainTextResponse(f"You requested {uri}\n")


app = Starlette(routes=[Route("/echo", echo, methods=["POST", "PUT"]),
                        Route("/{path:path}", index)])

if __name__ == "__main__":
    from squall.asgi import serve

    serve(app, port=8888)
