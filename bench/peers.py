"""Issue 19's peers' corpus: Raqib beside the naive loop, in one run, on 300
small Arabic article pages (6–20 kB) with an RSS feed, served on 127.0.0.1.

    python bench/run.py --peers               # about a minute
    python bench/run.py --peers --repeat 5    # the churn round 5 times: the median counts
    python bench/run.py --peers --profile     # and a py-spy flame graph of one churn pass

Rounds, each timed for both tools as a real process (start-up included):
  1. first          every page new (Raqib: the outlet's feed read, every article watched and fetched);
  2. churn          the furniture changed, comment and view counters inside the <article> too;
  3. churn + edits  the furniture changed again, and every 10th article carries a real edit.
The server answers plain 200s without validators, so every round refetches
every page; both tools read the feed every round.

Targets: Raqib's churn pass no longer than the loop's, its first pass no
longer than 1.2× the loop's, its process tree under 150 MB. Prints a table and
writes bench/results/peers-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import (
    TreeMemory,
    command,
    compiled,
    descendants,
    machine_busy,
    raqib,
    self_cpu,
    stages_line,
)
from bench.run import ROOT
from bench.serving import Handler as PageHandler
from bench.serving import Server as ServerBase
from bench.small_pages import feed, render
from raqib.cores import usable_cores

OUTLET = "sada"
# `[fetch] allow_private` is not needed: a fetch may reach its origin's
# network, and the feed on 127.0.0.1 is the origin of every article it lists
# (bench/run.py's watches are 127.0.0.1 URLs themselves).
PEERS_CONFIG = """
# One small site on one host: a per-host concurrency a newsroom would set for
# its own outlet, without autothrottle's start-up delay.
[fetch]
per_domain = 8
concurrency = 16
autothrottle = false
[notify]
flush_timeout = "1s"
[outlets]
feed_every = "1s"  # the naive loop reads the feed every round: so does Raqib
"""
_ARTICLE = re.compile(r"/article-(\d+)/?$")


# --- the site ----------------------------------------------------------------------


class Site:
    """The pages of the current round, rendered before it is timed."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.base = ""
        self.pages: dict[int, bytes] = {}
        self.feed = b""

    def prepare(self, editions: dict[int, int], round_: int) -> None:
        self.pages = {i: render(i, editions.get(i, 0), round_, self.base) for i in range(self.n)}
        self.feed = self.feed or feed(self.n, self.base)


class _Handler(PageHandler):
    """The benchmark's handler (bench/serving.py: HTTP/1.1, no Nagle stall, no log), serving this corpus."""

    def do_GET(self) -> None:
        # Plain 200s, no ETag or Last-Modified: as in the peers' setup, every round refetches.
        site = self.server.site
        m = _ARTICLE.search(self.path)
        if self.path == "/feed.xml":
            self._send(200, site.feed, "application/rss+xml; charset=utf-8", None)
        elif self.path == "/robots.txt":
            self._send(200, b"User-agent: *\nAllow: /\n", "text/plain", None)
        elif m and int(m.group(1)) in site.pages:
            self._send(200, site.pages[int(m.group(1))], "text/html; charset=UTF-8", None)
        else:
            self._send(404, b"not found", "text/plain", None)


def serve(site: Site) -> ServerBase:
    """The benchmark's page server (bench/serving.py), answering with this corpus."""
    return ServerBase(site, _Handler)


# --- measuring a process tree ---------------------------------------------------------


def _become_subreaper() -> None:
    """Orphans of a measured process (a forkserver, crawler children) are
    reparented to the bench, which reaps them: then RUSAGE_CHILDREN holds the
    CPU of the whole tree, with no need for the machine-wide busy time that
    bench/run.py subtracts its own from."""
    pr_set_child_subreaper = 36
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise SystemExit(f"prctl(PR_SET_CHILD_SUBREAPER): errno {ctypes.get_errno()}")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _reap_orphans(timeout: float = 10.0) -> list[int]:
    """Reap what the measured process left behind; the pids still alive after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return []
        if pid:
            continue
        if time.monotonic() > deadline:
            return descendants(os.getpid())
        time.sleep(0.02)


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    cpu_s: float
    # bench/run.py's way: the machine's busy time minus the bench's own. Above
    # cpu_s, it is someone else's load, which slows the pass down.
    cpu_machine_s: float
    out: str
    err: str
    stragglers: list[int]


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Wall time to exit, peak PSS summed over the tree, CPU of the whole tree."""
    os.sync()  # the other tool's writes, flushed now rather than during this run
    cpu0, busy0, self0 = _children_cpu(), machine_busy(), self_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak_kb = memory.stop()
    stragglers = _reap_orphans()
    machine = (machine_busy() - busy0) - (self_cpu() - self0)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} exited {proc.returncode}:\n{err[-4000:]}")
    return Measured(
        seconds=round(wall, 3),
        peak_mb=round(peak_kb / 1024, 1),
        cpu_s=round(_children_cpu() - cpu0, 2),
        cpu_machine_s=round(machine, 2),
        out=out,
        err=err,
        stragglers=stragglers,
    )


def _json_in(out: str) -> Any:
    """The JSON document in stdout (py-spy prints its own lines around it)."""
    return json.loads(out[out.index("{") : out.rindex("}") + 1])


def _alarming(err: str) -> list[str]:
    """stderr lines worth reading in the report."""
    words = ("error", "traceback", "warning", "exception", "killed")
    return [line for line in err.splitlines() if any(w in line.lower() for w in words)][:20]


# --- the two tools ----------------------------------------------------------------------


def page_of(url: str) -> int:
    m = _ARTICLE.search(url)
    if m is None:
        raise SystemExit(f"not an article of the bench's site: {url}")
    return int(m.group(1))


def versions(home: Path) -> dict[int, int]:
    """Versions stored so far, per page."""
    r = raqib(home, "watches", "--outlet", OUTLET, "--json")
    if r.returncode != 0:
        raise SystemExit(f"raqib watches failed:\n{r.stderr}")
    return {page_of(w["url"]): w["versions"] for w in json.loads(r.stdout)}


def raqib_round(
    home: Path, n: int, first: bool, before: dict[int, int], profile: Path | None = None
) -> tuple[dict[str, Any], dict[int, int]]:
    # Round 1 is a plain `check`: the feed is read and its articles are watched
    # and fetched in the same pass. Later rounds take every watch, due or not.
    cmd, env = command(home, "check", "--json", *(() if first else ("--all",)))
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        cmd = [str(spy), "record", "--subprocesses", "--gil", "-o", str(profile),
               "--format", "flamegraph", "--", *cmd]  # fmt: skip
    m = measure(cmd, env)
    summary = _json_in(m.out)
    outcomes = summary["outcomes"]
    if sum(outcomes.values()) != n:
        print(f"  ! raqib recorded {outcomes}, not {n} fetches", flush=True)
    after = versions(home)
    new = sorted(p for p, v in after.items() if v > before.get(p, 0))
    result = {
        "seconds": m.seconds,
        "pass_seconds": round(summary.get("seconds", 0.0), 3),  # Raqib's own, start-up excluded
        "peak_mb": m.peak_mb,
        "cpu_s": m.cpu_s,
        "cpu_machine_s": m.cpu_machine_s,
        "outcomes": outcomes,
        "fetches": sum(outcomes.values()),
        "watched": len(after),
        "substantive": summary.get("substantive"),
        "cosmetic": summary.get("cosmetic"),
        "processes": summary.get("processes"),
        # Raqib's own CPU by stage (raqib.app.passes.cpu_stages)
        "cpu_seconds": summary.get("cpu_seconds"),
        "changed": new,
        "outlets": summary.get("outlets"),  # the feed read, when it was due
        "stderr": _alarming(m.err),
        "stderr_tail": m.err.splitlines()[-5:],
        "stragglers": m.stragglers,
    }
    return result, after


def naive_round(feed_url: str, state: Path) -> dict[str, Any]:
    m = measure([sys.executable, str(ROOT / "bench" / "naive_loop.py"), feed_url, str(state)])
    report = json.loads(m.out)
    return {
        "seconds": m.seconds,
        "peak_mb": m.peak_mb,
        "cpu_s": m.cpu_s,
        "cpu_machine_s": m.cpu_machine_s,
        "fetches": report["pages"],
        "changed": sorted(page_of(u) for u in report["changed"]),
        "stderr": _alarming(m.err),
        "stragglers": m.stragglers,
    }


def _others(m: dict[str, Any]) -> float:
    """CPU seconds the rest of the machine used while `m` ran."""
    return max(0.0, m["cpu_machine_s"] - m["cpu_s"])


def _progress(row: dict[str, Any]) -> str:
    parts = []
    for tool in ("raqib", "naive"):
        m = row[tool]
        parts.append(
            f"{tool} {m['seconds']:.1f} s, {m['peak_mb']:.0f} MB, {m['cpu_s']:.1f} s CPU"
            f" (others {_others(m):.1f} s), {len(m['changed'])} changed"
        )
    return (
        "   ".join(parts)
        + f"   raqib outcomes {row['raqib']['outcomes']}"
        + stages_line(row["raqib"].get("cpu_seconds"), "                 raqib ")
    )


# --- the run ------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(
        prog="bench/run.py --peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument(
        "--repeat", type=int, default=1, metavar="N",
        help="run the churn round N times, each with new furniture; the median counts",
    )  # fmt: skip
    ap.add_argument("--profile", action="store_true", help="py-spy one more churn pass")
    ap.add_argument("--keep", action="store_true", help="keep the Raqib home")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    compiled(Path(sys.executable).with_name("raqib"))  # as installed from a wheel
    if args.repeat < 1:
        ap.error("--repeat is at least 1")

    n = args.pages
    _become_subreaper()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="raqib-peers-"))
    home, state = tmp / "home", tmp / "naive-hashes.json"
    home.mkdir()
    (home / "raqib.toml").write_text(PEERS_CONFIG, encoding="utf-8")
    site = Site(n)
    server = serve(site)
    feed_url = f"{site.base}/feed.xml"
    r = raqib(home, "outlet", "add", OUTLET, "--feed", feed_url)
    if r.returncode != 0:
        raise SystemExit(f"raqib outlet add failed:\n{r.stderr}")
    edited = {i: 1 for i in range(0, n, 10)}
    plan = [("first", {}), *[("churn", {})] * args.repeat, ("churn + edits", edited)]
    print(f"peers' corpus: {n} pages on {site.base}, {usable_cores()} cores", flush=True)

    rounds: list[dict[str, Any]] = []
    stored: dict[int, int] = {}
    sizes: list[int] = []
    for k, (name, editions) in enumerate(plan):
        site.prepare(editions, k)
        sizes = sizes or sorted(len(b) for b in site.pages.values())
        row: dict[str, Any] = {"round": name, "furniture": k, "edited": sorted(editions)}
        row["raqib"], stored = raqib_round(home, n, k == 0, stored)
        row["naive"] = naive_round(feed_url, state)
        rounds.append(row)
        print(f"  {name:<14} {_progress(row)}", flush=True)

    profiled = None
    if args.profile:
        args.out.mkdir(parents=True, exist_ok=True)
        svg = args.out / f"peers-churn-{stamp}.svg"
        site.prepare({}, len(plan))
        profiled, stored = raqib_round(home, n, False, stored, profile=svg)
        profiled["svg"] = str(svg)
        print(f"  profiled churn pass: {profiled['seconds']:.1f} s under py-spy → {svg}")
    r = raqib(home, "changes", "--outlet", OUTLET, "--json")
    changes = json.loads(r.stdout) if r.returncode == 0 else []
    server.shutdown()

    results = {
        "mode": "peers",
        "pages": n,
        "cores": usable_cores(),
        "started": stamp,
        "python": sys.version.split()[0],
        "page_kb": {
            "min": round(sizes[0] / 1024, 1),
            "median": round(statistics.median(sizes) / 1024, 1),
            "max": round(sizes[-1] / 1024, 1),
        },
        "config": PEERS_CONFIG,
        "rounds": rounds,
        "profiled": profiled,
        "changes": [
            {k: c[k] for k in ("url", "from_version", "to_version", "kind", "chars_changed")}
            for c in changes
        ],
        "others_busy": _others_busy(rounds),
        **summarise(rounds, set(edited), n),
    }
    print_table(results)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"peers-{stamp}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwrote {out}")
    if args.keep:
        print(f"kept {home}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def _others_busy(rounds: list[dict[str, Any]]) -> float:
    """The share of the machine other work took during the timed passes: the
    times mean little when it is large (this machine is shared)."""
    ms = [r[tool] for r in rounds for tool in ("raqib", "naive")]
    # The whole machine's, as machine_busy counts it, even when the run is pinned.
    capacity = sum(m["seconds"] for m in ms) * (os.cpu_count() or 1)
    return round(sum(_others(m) for m in ms) / capacity, 2)


def summarise(rounds: list[dict[str, Any]], edited: set[int], n: int) -> dict[str, Any]:
    tools: dict[str, Any] = {}
    for tool in ("naive", "raqib"):
        first, *churn, last = (r[tool] for r in rounds)
        later = [*churn, last]
        peaks = [r["peak_mb"] for r in (first, *later)]
        tools[tool] = {
            "first_s": first["seconds"],
            "churn_s": statistics.median(c["seconds"] for c in churn),
            "churn_all_s": [c["seconds"] for c in churn],
            "edits_s": last["seconds"],
            "cpu_s": [first["cpu_s"], statistics.median(c["cpu_s"] for c in churn), last["cpu_s"]],
            "peak_mb": [min(peaks), max(peaks)],
            "false_changes": sum(len(set(r["changed"]) - edited) for r in later),
            "false_change_pages": sorted({p for r in later for p in r["changed"]} - edited),
            "caught": len(set(last["changed"]) & edited),
            "missed": sorted(edited - set(last["changed"])),
            "every_page_fetched": all(r["fetches"] == n for r in (first, *later)),
        }
    nv, rq = tools["naive"], tools["raqib"]
    targets = {
        "churn pass ≤ the naive loop's": [f"{rq['churn_s']:.1f} s vs {nv['churn_s']:.1f} s",
                                         rq["churn_s"] <= nv["churn_s"]],
        "first pass ≤ 1.2× the naive loop's": [f"×{rq['first_s'] / nv['first_s']:.2f}",
                                              rq["first_s"] <= 1.2 * nv["first_s"]],
        "Raqib's process tree < 150 MB": [f"{rq['peak_mb'][1]:.0f} MB", rq["peak_mb"][1] < 150],
        "no false change": [rq["false_changes"], rq["false_changes"] == 0],
        "every edit caught": [f"{rq['caught']}/{len(edited)}", rq["caught"] == len(edited)],
        "every page fetched in every round": [n, rq["every_page_fetched"]],
    }  # fmt: skip
    return {"tools": tools, "targets": targets}


def print_table(r: dict[str, Any]) -> None:
    kb = r["page_kb"]
    churns = len(r["tools"]["raqib"]["churn_all_s"])
    print(
        f"\n{r['pages']} pages ({kb['min']}–{kb['max']} kB, median {kb['median']} kB), "
        f"{r['cores']} cores; churn: median of {churns} round{'s' * (churns > 1)}"
    )
    head = ("tool", "pass (first / churn / churn+edits)", "peak memory (tree)", "CPU per pass",
            "false changes", "edits caught")  # fmt: skip
    widths = (12, 36, 20, 22, 15, 12)
    print("".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    edited = len(r["rounds"][-1]["edited"])
    for tool, label in (("naive", "naive loop"), ("raqib", "Raqib")):
        t = r["tools"][tool]
        lo, hi = t["peak_mb"]
        cells = (
            label,
            f"{t['first_s']:.1f} / {t['churn_s']:.1f} / {t['edits_s']:.1f} s",
            f"{lo:.0f}–{hi:.0f} MB" if round(lo) != round(hi) else f"{hi:.0f} MB",
            " / ".join(f"{c:.1f}" for c in t["cpu_s"]) + " s",
            str(t["false_changes"]),
            f"{t['caught']}/{edited}",
        )
        print("".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    if r["others_busy"] > 0.1:
        print(
            f"! other work kept the machine {r['others_busy']:.0%} busy during the passes:"
            " the times are slower than on an idle machine"
        )
    print("\ntargets:")
    for name, (value, ok) in r["targets"].items():
        print(f"  {'met' if ok else 'NOT met':<8} {name}: {value}")
