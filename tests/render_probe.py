"""Run inside a loopback-only network namespace (`unshare -n`, made by
tests/test_render.py): a rendered watch whose page's scripts reach for
http://169.254.169.254/ — by fetch(), by an <img>, and through a same-origin
redirect — while a canary really listens there (the address is put on this
namespace's loopback), so a request that got through would be seen.

Usage: python tests/render_probe.py HOME OUT.json; writes what happened.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scripted_pages import scripted_page  # noqa: E402
from raqib.demo.server import PageServer, Route  # noqa: E402
from tests.conftest import raqib_command  # noqa: E402

METADATA = "http://169.254.169.254/latest/meta-data/"
REACH = f"""
fetch('{METADATA}').then(() => document.body.dataset.meta = 'reached', () => document.body.dataset.meta = 'blocked');
fetch('/hop').then(() => document.body.dataset.hop = 'reached', () => document.body.dataset.hop = 'blocked');
const img = new Image(); img.src = 'http://169.254.169.254/pixel.png'; document.body.appendChild(img);
"""


def main(home: str, out: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "169.254.169.254/32", "dev", "lo"], check=True)
    canary = PageServer(port=80, host="169.254.169.254").start()
    canary.routes["/latest/meta-data/"] = Route(b"secret-role", 200, {"Content-Type": "text/plain"})
    site = PageServer().start()
    site.routes["/news/1"] = Route(scripted_page(0, extra_script=REACH))
    site.routes["/hop"] = Route(b"", 302, {"Location": "http://169.254.169.254/redirected"})
    url = site.base + "/news/1"
    run = subprocess.run(
        [*raqib_command(), "--home", home, "watch", url, "--render", "--json"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    log = subprocess.run(
        [*raqib_command(), "--home", home, "log", url, "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    guarded = [path for path, _h in canary.requests]
    # The control: the canary answers anyone who is let through.
    reachable = urllib.request.urlopen(METADATA, timeout=10).read().decode()
    Path(out).write_text(
        json.dumps(
            {
                "watch_code": run.returncode, "watch_out": run.stdout, "watch_err": run.stderr[-4000:],
                "log": log.stdout, "canary_requests_during_pass": guarded,
                "site_requests": [p for p, _h in site.requests], "control": reachable,
            }
        )
    )  # fmt: skip
    canary.stop()
    site.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
