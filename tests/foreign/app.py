"""A small service authbench did not write, for tests/foreign.rs: a Flask web app on Flask's stock
signed-cookie session (form login, a CSRF token in a cookie echoed in X-CSRFToken, logout) and a
PyJWT token API (short-lived access token, rotating refresh token, logout-all by a per-user cut-off).

    APP_PASSWORD=... python3 app.py      # prints `listening on http://127.0.0.1:PORT`

Every user's password is $APP_PASSWORD. Debian's python3-flask and python3-jwt (scripts/lib/deps.sh).
"""
import math
import os
import secrets
import sys
import threading
import time

import jwt
from flask import Flask, abort, jsonify, redirect, request, session
from werkzeug.serving import WSGIRequestHandler, make_server

app = Flask(__name__)
app.secret_key = secrets.token_bytes(32)
PASSWORD = os.environ["APP_PASSWORD"]
KEY = secrets.token_bytes(32)
ACCESS_S = int(os.environ.get("APP_ACCESS_S", "2"))
lock = threading.Lock()
used_refresh = set()  # jti of refresh tokens already exchanged (rotation)
cut_off = {}  # user -> time of their logout-all: tokens issued before it are refused


def password_ok(user, password):
    return bool(user) and secrets.compare_digest(str(password or ""), PASSWORD)


# The web app: Flask's default client-side session, as its tutorial writes it.
@app.post("/login")
def login():
    if not password_ok(request.form.get("username"), request.form.get("password")):
        return "bad login", 401
    session.clear()
    session["user"] = request.form["username"]
    session["csrf"] = secrets.token_urlsafe(16)
    answer = redirect("/home")
    answer.set_cookie("csrftoken", session["csrf"], samesite="Lax")
    return answer


@app.get("/home")
def home():
    if "user" not in session:
        return redirect("/login")
    return jsonify(user=session["user"])


@app.post("/notes")
def notes():
    if "user" not in session:
        return redirect("/login")
    if request.headers.get("X-CSRFToken") != session.get("csrf"):
        abort(403)
    return jsonify(saved=True), 201


@app.post("/logout")
def logout():
    if request.headers.get("X-CSRFToken") != session.get("csrf"):
        abort(403)
    session.clear()
    return redirect("/login")


# The token API.
def issue(user):
    # PyJWT truncates iat and exp to whole seconds: exp rounded up so a token lives at least
    # ACCESS_S; `at` (what the logout-all cut-off compares) exact.
    now = time.time()
    base = {"sub": user, "iat": int(now), "at": now}
    access = jwt.encode({**base, "exp": math.ceil(now + ACCESS_S), "typ": "access"}, KEY, "HS256")
    refresh = jwt.encode({**base, "jti": secrets.token_hex(8), "typ": "refresh"}, KEY, "HS256")
    return jsonify(access_token=access, refresh_token=refresh, token_type="Bearer", expires_in=ACCESS_S)


def claims(token, typ):
    try:
        c = jwt.decode(token, KEY, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    with lock:
        cut = cut_off.get(c.get("sub"), 0)
    return c if c.get("typ") == typ and c["at"] > cut else None


def bearer():
    h = request.headers.get("Authorization", "")
    return claims(h[7:], "access") if h.startswith("Bearer ") else None


@app.post("/token")
def token():
    b = request.get_json(silent=True) or {}
    if not password_ok(b.get("username"), b.get("password")):
        return jsonify(error="invalid_grant"), 401
    return issue(b["username"])


@app.get("/api/profile")
def profile():
    c = bearer()
    return jsonify(user=c["sub"]) if c else (jsonify(error="invalid_token"), 401)


@app.post("/token/refresh")
def refresh():
    c = claims((request.get_json(silent=True) or {}).get("refresh_token", ""), "refresh")
    if c is None:
        return jsonify(error="invalid_grant"), 401
    with lock:
        if c["jti"] in used_refresh:
            return jsonify(error="invalid_grant"), 401
        used_refresh.add(c["jti"])
    return issue(c["sub"])


@app.post("/token/logout-all")
def logout_all():
    c = bearer()
    if c is None:
        return jsonify(error="invalid_token"), 401
    with lock:
        cut_off[c["sub"]] = time.time()
    return "", 204


class KeepAlive(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args):
        pass


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAlive)
    print(f"listening on http://127.0.0.1:{server.port}", flush=True)
    sys.stdout.close()
    server.serve_forever()
