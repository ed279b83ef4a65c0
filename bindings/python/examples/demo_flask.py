"""The seed's demo as a Flask application, served by squall's WSGI server:

    python -m squall.wsgi demo_flask:app --port 8888 [--threads 4]
"""
from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/echo", methods=["POST", "PUT"])
def echo():
    return Response(request.get_data(), mimetype="application/octet-stream")


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def index(path):
    uri = request.full_path if request.query_string else request.path
    return Response(f"You requested {uri}\n", mimetype="text/plain")


if __name__ == "__main__":
    from squall.wsgi import serve

    serve(app, port=8888)
