"""The web host of tests/test_hosts.py, run inside its network namespace:
article pages on ADDRESS:PORT (each GET logged to LOG, a line per fetch) and
a webhook receiver on ADDRESS:PORT+1 (each POSTed event id logged to
LOG.hooks); the most page requests in flight at once are in LOG.most. Runs
until killed.

    python tests/hosts_web.py ADDRESS PORT PAGES DELAY LOG
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from raqib.demo import server as demo
from raqib.demo.pages import VERSIONS, render
from tests.conftest import ConcurrencyProbe

_lock = threading.Lock()


def _append(path: Path, line: str) -> None:
    with _lock, path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


class InFlight(ConcurrencyProbe):
    """The most page requests in flight at once, kept in a file as they come."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        with self.lock:
            self.path.write_text(str(self.most), encoding="utf-8")


def main() -> None:
    address, port, pages, delay, log = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
        Path(sys.argv[5]),
    )
    original = demo._Handler.do_GET

    def logged(self: Any) -> None:
        if self.path != "/robots.txt":
            _append(log, self.path)
        original(self)

    demo._Handler.do_GET = logged  # type: ignore[method-assign]
    site = demo.PageServer(port, host=address)
    site.around = InFlight(log.with_suffix(".most"))
    for i in range(pages):
        site.routes[f"/p/{i}"] = demo.Route(
            render(VERSIONS[0], f"http://{address}:{port}"), delay=delay
        )

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            _append(log.with_suffix(".hooks"), str(body.get("id")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    hooks = ThreadingHTTPServer((address, port + 1), Hook)
    hooks.daemon_threads = True
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    print("ready", flush=True)
    site.serve_forever()


if __name__ == "__main__":
    main()
