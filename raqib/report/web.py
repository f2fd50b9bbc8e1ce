"""`raqib serve`: the report's views live from the database, read-only.

Bound to 127.0.0.1 by default. Anywhere else a token is required and checked
on every request (Authorization: Bearer, or the cookie set when a link with
?token= is first opened: that request is redirected to the same URL without
the token, so it stays out of histories and logs), compared in constant time.
The Host header must be an address or a name the user allowed: a page on
another site whose name was made to resolve to this machine (DNS rebinding)
is refused.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, abort, redirect, request
from werkzeug.serving import WSGIRequestHandler

from raqib.report import views
from raqib.report.site import raw_text
from raqib.storage import Storage

COOKIE = "raqib_token"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def host_allowed(host_header: str, names: set[str]) -> bool:
    """An IP address (a rebinding page cannot be served from one) or an allowed name."""
    try:
        host = urlsplit(f"//{host_header}").hostname or ""
    except ValueError:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return host.lower().rstrip(".") in names


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def create_app(
    storage: Storage,
    *,
    token: str | None = None,
    hosts: set[str] | None = None,
    newsroom: Callable[[Mapping[str, str]], Any] | None = None,
) -> Flask:
    """The live view; `hosts`: the names the Host header may carry (None: any);
    `newsroom`: the latest changes for the front page, given its query's filters."""
    app = Flask("raqib")
    env = views.environment()

    @app.before_request
    def _check() -> Any:
        if request.method not in ("GET", "HEAD"):
            abort(405)  # read-only
        if hosts is not None and not host_allowed(request.host, hosts):
            return Response(
                "unknown Host: start raqib serve with --allow-host NAME to use this name\n", 400
            )
        if not token:
            return None
        query = request.args.get("token")
        if query is not None:
            if not _same(query, token):
                return Response("a valid token is required\n", 401, {"WWW-Authenticate": "Bearer"})
            # Once: the cookie carries it from now on, and the URL loses it.
            rest = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "token"])
            resp = redirect(request.path + (f"?{rest}" if rest else ""), code=303)
            resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return resp
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not _same(given or request.cookies.get(COOKIE, ""), token):
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
        return resp

    def page(template: str, view: dict[str, Any] | None) -> str:
        if view is None:
            abort(404)
        return env.get_template(template).render(**view)

    @app.get("/")
    @app.get("/index.html")
    def index() -> str:
        args = {k: v[:500] for k, v in request.args.items()}  # bounded: strangers type these
        news = newsroom(args) if newsroom is not None else None
        return page("index.html", views.index_view(storage, news))

    # Ids past the databases' 64-bit integers name nothing (404, not an overflow).
    @app.get("/article-<int(max=9223372036854775807):watch_id>.html")
    def article(watch_id: int) -> str:
        return page("article.html", views.article_view(storage, watch_id))

    @app.get("/change-<int(max=9223372036854775807):change_id>.html")
    def change(change_id: int) -> str:
        return page("change.html", views.change_view(storage, change_id))

    @app.get("/outcome-<string:kind>.html")
    def outcome(kind: str) -> str:
        return page("outcome.html", views.outcome_view(storage, kind))

    @app.get("/capture-<string:raw_hash>.html")
    def capture(raw_hash: str) -> str:
        text = raw_text(storage, raw_hash) if _is_sha256(raw_hash) else None
        return page("capture.html", views.capture_view(storage, raw_hash, text))

    @app.get("/raw-<string:raw_hash>.txt")
    def raw(raw_hash: str) -> Response:
        if not _is_sha256(raw_hash):
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


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost, parsed (never a prefix: 127.0.0.1.evil is a name)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Handler(WSGIRequestHandler):
    """Werkzeug's request handler, with any token cut out of the access log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path
        self.path = _TOKEN.sub(r"\1***", path)
        try:
            super().log_request(code, size)
        finally:
            self.path = path


_TOKEN = re.compile(r"([?&]token=)[^&#\s]*")


def serve(
    storage: Storage,
    host: str,
    port: int,
    token: str | None,
    announce: Any = print,
    allow_hosts: tuple[str, ...] = (),
    newsroom: Callable[[Mapping[str, str]], Any] | None = None,
) -> None:
    from werkzeug.serving import make_server

    names = {"localhost", *(h.lower().rstrip(".") for h in allow_hosts)}
    app = create_app(storage, token=token, hosts=names, newsroom=newsroom)
    server = make_server(host, port, app, threaded=True, request_handler=_Handler)
    shown = f"[{host}]" if ":" in host else host
    announce(
        f"serving on http://{shown}:{server.port}/ (read-only{', token required' if token else ''}); Ctrl-C stops"
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
