"""Run inside a loopback-only network namespace (`unshare -n`, made by
tests/test_render.py): a rendered watch whose page's scripts reach for
http://169.254.169.254/ — by fetch(), by an <img>, and through a same-origin
redirect — while a canary really listens there (the address is put on this
namespace's loopback), so a request that got through would be seen.

Usage: python tests/render_probe.py HOME OUT.json; writes what happened.

`python tests/render_probe.py HOME OUT.json mixed`: one pass renders a public
page (on 93.184.216.34) and an intranet one (on 10.0.0.2), while 10.0.0.1
listens. The public page's image and frame redirect to 10.0.0.1, which only
the browser's proxy sees; the intranet page loads an image from 10.0.0.1,
which its own network allows.
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


PUBLIC, INTRANET, TARGET = "93.184.216.34", "10.0.0.2", "10.0.0.1"


def mixed(home: str, out: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for address in (PUBLIC, INTRANET, TARGET):
        subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True)
    target = PageServer(port=80, host=TARGET).start()
    for path in ("/admin", "/secret.png", "/ok.png"):
        target.routes[path] = Route(b"intranet", 200, {"Content-Type": "text/plain"})
    public = PageServer(port=80, host=PUBLIC).start()
    reach = f"""
const img = new Image(); img.src = 'http://{PUBLIC}/r.png'; document.body.appendChild(img);
const frame = document.createElement('iframe'); frame.src = '/frame'; document.body.appendChild(frame);
"""
    public.routes["/news/1"] = Route(scripted_page(0, extra_script=reach))
    public.routes["/r.png"] = Route(b"", 302, {"Location": f"http://{TARGET}/secret.png"})
    public.routes["/frame"] = Route(b"", 302, {"Location": f"http://{TARGET}/admin"})
    intranet = PageServer(port=80, host=INTRANET).start()
    own = f"const img = new Image(); img.src = 'http://{TARGET}/ok.png'; document.body.appendChild(img);"
    intranet.routes["/cms/1"] = Route(scripted_page(1, extra_script=own))
    urls = [f"http://{PUBLIC}/news/1", f"http://{INTRANET}/cms/1"]
    for url in urls:
        subprocess.run(
            [*raqib_command(), "--home", home, "watch", url, "--render", "--no-fetch"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    run = subprocess.run(
        [*raqib_command(), "--home", home, "check", "--all", "--json"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    logs = {
        url: subprocess.run(
            [*raqib_command(), "--home", home, "log", url, "--json"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for url in urls
    }
    Path(out).write_text(
        json.dumps(
            {
                "code": run.returncode, "out": run.stdout, "err": run.stderr[-100_000:], "logs": logs,
                "target_requests": [p for p, _h in target.requests],
                "public_requests": [p for p, _h in public.requests],
            }
        )
    )  # fmt: skip
    for srv in (target, public, intranet):
        srv.stop()


if __name__ == "__main__":
    if sys.argv[3:] == ["mixed"]:
        mixed(sys.argv[1], sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
