"""Rendered fetches against plain ones (issue 21), in one run, on 127.0.0.1.

    python bench/run.py --render              # 60 pages, about two minutes
    python bench/run.py --render --pages 200

The same Arabic article pages, served two ways: with the article in the
markup (/p/N), and built by a script from an inline JSON state (/s/N). Three
homes, each timed as a real `raqib check --all` process (start-up, browser
launch and every child process's memory included):
  plain        /p/N, plain watches;
  screenshots  /p/N, `watch --screenshots` (a browser only for changed bytes);
  rendered     /s/N, `watch --render`.
Rounds: first (every page new), churn (the clock, counter and "most read"
list change on every page), edits (churn, and every 10th article edited).
Prints a table and writes bench/results/render-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import command, machine_busy
from bench.run import ROOT, measured_pass
from bench.scripted_pages import BODY, plain_page, scripted_page
from bench.serving import Handler as PlainHandler
from bench.serving import Server as ServerBase

CONFIG = """
# One site on one host: the per-host limits a newsroom would set for it.
[fetch]
per_domain = 8
concurrency = 16
autothrottle = false
[notify]
flush_timeout = "1s"
"""
MODES = {
    "plain": ("p", ()),
    "screenshots": ("p", ("--screenshots",)),
    "rendered": ("s", ("--render",)),
}


class Site:
    def __init__(self, n: int) -> None:
        self.n = n
        self.base = ""
        self.pages: dict[str, bytes] = {}

    def prepare(self, round_: int, edited: set[int]) -> None:
        for i in range(self.n):
            body = [f"{BODY[0]} (رقم {i})", *BODY[1:]]
            if i in edited:
                body[2] = body[2].replace("عشرين ألف", "ثلاثين ألف")
            self.pages[f"/p/{i}"] = plain_page(round_, body)
            self.pages[f"/s/{i}"] = scripted_page(round_, body)


class _Handler(PlainHandler):
    def do_GET(self) -> None:
        pages = self.server.site.pages
        if self.path == "/robots.txt":
            self._send(200, b"User-agent: *\nAllow: /\n", "text/plain", None)
        elif self.path in pages:
            self._send(200, pages[self.path], "text/html; charset=utf-8", None)
        else:
            self._send(404, b"not found", "text/plain", None)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(
        prog="bench/run.py --render",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the homes")
    ap.add_argument(
        "--config", default="", help="extra raqib.toml lines (e.g. '[render]\\npages = 4')"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    n = args.pages
    tmp = Path(tempfile.mkdtemp(prefix="raqib-render-bench-"))
    site = Site(n)
    server = ServerBase(site, _Handler)
    homes: dict[str, Path] = {}
    for mode, (prefix, flags) in MODES.items():
        home = homes[mode] = tmp / mode
        home.mkdir()
        (home / "raqib.toml").write_text(
            CONFIG + args.config.replace("\\n", "\n"), encoding="utf-8"
        )
        urls = "\n".join(f"{site.base}/{prefix}/{i}" for i in range(n))
        r = raqib_stdin(home, urls, "watch", "-", "--no-fetch", "--allow-private", *flags)
        if r.returncode != 0:
            raise SystemExit(f"raqib watch failed:\n{r.stderr}")
    results: dict[str, Any] = {"pages": n, "started": datetime.now(UTC).isoformat(), "rounds": {}}
    busy = machine_busy()
    for round_, name in enumerate(("first", "churn", "edits")):
        site.prepare(round_, set(range(0, n, 10)) if name == "edits" else set())
        results["rounds"][name] = {
            mode: measured_pass(f"{name}/{mode}", homes[mode], n) for mode in MODES
        }
        for mode, got in results["rounds"][name].items():
            print(f"  {name:6} {mode:12} {got['seconds']:6.2f} s  {got['pages_per_s']:6.1f} pages/s  "
                  f"{got['peak_rss_mb']:6.1f} MB  {got['outcomes']}", flush=True)  # fmt: skip
    results["machine_busy_s"] = round(machine_busy() - busy, 1)
    server.shutdown()
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"render-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print_table(results)
    print(f"wrote {out}")
    if args.keep:
        print(f"homes kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def raqib_stdin(home: Path, text: str, *args: str) -> Any:
    cmd, env = command(home, *args)
    return subprocess.run(cmd, input=text, capture_output=True, text=True, env=env, check=False)


def print_table(r: dict[str, Any]) -> None:
    print(f"\n{r['pages']} pages · pass seconds · pages/s · peak memory of the process tree")
    print("| round | plain | screenshots | rendered |")
    print("|---|---|---|---|")
    for name, modes in r["rounds"].items():
        cells = [
            f"{m['seconds']:.1f} s · {m['pages_per_s']:.1f}/s · {m['peak_rss_mb']:.0f} MB"
            for m in (modes["plain"], modes["screenshots"], modes["rendered"])
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
