"""The `raqib demo` walk-through: serve, watch, check after each edit, show diffs.

Each check is a real `raqib check` in its own process, exactly what cron
runs; the demo only changes what the local server answers between them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from raqib.demo.pages import PATH, VERSIONS, render
from raqib.demo.server import PageServer, Route


def _raqib(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-P", "-m", "raqib", "--home", str(home), *args]
    env = {k: v for k, v in os.environ.items() if k not in ("RAQIB_NOW", "RAQIB_HOME")}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def run_demo(home: Path | None, port: int, out: TextIO, serve_port: int | None = None) -> int:
    """The walk-through; with `serve_port`, it ends by serving the report of
    its home (0: any free port) until interrupted."""
    color = out.isatty()
    tmp = None
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="raqib-demo-")
        home = Path(tmp.name)
    server = PageServer(port).start()
    url = server.base + PATH

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    try:
        say(f"Raqib demo — serving an evolving Arabic article at {url}")
        say(f"home: {home}{' (temporary)' if tmp else ''}\n")
        r = _raqib(home, "watch", "--no-fetch", url, "--story", "us-iraq-coalition-talks")
        if r.returncode != 0:
            say(r.stderr)
            return r.returncode
        for n, version in enumerate(VERSIONS, 1):
            server.routes[PATH] = Route(render(version, server.base))
            say(f"── edit {n}: {version.note}")
            r = _raqib(home, "check", "--all")
            if r.returncode != 0:
                say(r.stdout + r.stderr)
                return r.returncode
            say("   " + r.stdout.strip())
        say("")
        r = _raqib(home, "changes")
        say("── what Raqib recorded (raqib changes):")
        say(r.stdout.rstrip())
        changes = json.loads(_raqib(home, "changes", "--json").stdout or "[]")
        for change in changes:
            say(
                f"\n── raqib diff {url} --from {change['from_version']} --to {change['to_version']}"
            )
            r = _raqib(
                home,
                "diff",
                url,
                "--from",
                str(change["from_version"]),
                "--to",
                str(change["to_version"]),
                "--color" if color else "--no-color",
            )
            say(r.stdout.rstrip())
        if serve_port is not None:
            server.stop()
            return _serve(home, serve_port, say)
        say(f"\nTry: raqib --home {home} diff {url} --format html > diff.html" if not tmp else "")
        say(f"     raqib --home {home} serve     # the report in a browser" if not tmp else "")
        return 0
    finally:
        server.stop()
        if tmp is not None:
            tmp.cleanup()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _serve(home: Path, port: int, say: Any) -> int:
    """`raqib serve` on the demo's home, its address told as soon as it listens."""
    cmd = [sys.executable, "-P", "-m", "raqib", "--home", str(home), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    # SIGTERM ends the demo like Ctrl-C does: through the `finally` that stops the server,
    # which would otherwise outlive the demo.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # read to the end: an unread pipe would stall the server
            if line.startswith("serving on "):
                address = line.split()[2]
                say(f"\n── the report of this demo: {address}  (Ctrl-C stops)")
                say(f"   its home: {home}")
            elif "is in use by another program" in line:  # werkzeug's words
                say(f"{line.rstrip()} For the demo: --serve-port PORT (0: any free port).")
            elif not line.startswith(("INFO", "127.0.0.1")):  # access log lines
                say(line.rstrip())
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
