"""`raqib serve`: the report's views live from the database, read-only.

Bound to 127.0.0.1 by default. Anywhere else a token is required and checked
on every request (Authorization: Bearer, a cookie set after ?token=, or the
query parameter itself), compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, Response, abort, request

from raqib.report import views
from raqib.report.site import raw_text
from raqib.storage import Storage

COOKIE = "raqib_token"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(storage: Storage, *, token: str | None = None) -> Flask:
    app = Flask("raqib")
    env = views.environment()

    @app.before_request
    def _check_token() -> Any:
        if request.method not in ("GET", "HEAD"):
            abort(405)  # read-only
        if not token:
            return None
        given = (
            request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            or request.cookies.get(COOKIE, "")
            or request.args.get("token", "")
        )
        if not hmac.compare_digest(given.encode(), token.encode()):
            return Response(
                "a valid token is required (Authorization: Bearer …)\n",
                401,
                {"WWW-Authenticate": "Bearer"},
            )
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        if token and request.args.get("token"):
            resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return resp

    def page(template: str, view: dict[str, Any] | None) -> str:
        if view is None:
            abort(404)
        return env.get_template(template).render(**view)

    @app.get("/")
    @app.get("/index.html")
    def index() -> str:
        return page("index.html", views.index_view(storage))

    @app.get("/article-<int:watch_id>.html")
    def article(watch_id: int) -> str:
        return page("article.html", views.article_view(storage, watch_id))

    @app.get("/change-<int:change_id>.html")
    def change(change_id: int) -> str:
        return page("change.html", views.change_view(storage, change_id))

    @app.get("/raw-<string:raw_hash>.txt")
    def raw(raw_hash: str) -> Response:
        if len(raw_hash) != 64 or any(ch not in "0123456789abcdef" for ch in raw_hash):
            abort(404)
        text = raw_text(storage, raw_hash)
        if text is None:
            abort(404)
        # The archived page is shown as source text, never rendered.
        return Response(
            text,
            200,
            {"Content-Type": "text/plain; charset=utf-8", "Content-Security-Policy": "sandbox"},
        )

    return app


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


def serve(storage: Storage, host: str, port: int, token: str | None, announce: Any = print) -> None:
    from werkzeug.serving import make_server

    server = make_server(host, port, create_app(storage, token=token), threaded=True)
    shown = f"[{host}]" if ":" in host else host
    announce(
        f"serving on http://{shown}:{server.port}/ (read-only{', token required' if token else ''}); Ctrl-C stops"
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
