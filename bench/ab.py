"""Two Raqib installs in one run: a baseline and this checkout, pass by pass.

    git worktree add /tmp/base <commit> && python3 -m venv /tmp/base/.venv \\
        && /tmp/base/.venv/bin/pip install -e /tmp/base
    python bench/run.py --ab /tmp/base/.venv/bin/raqib          # about 5 minutes
    python bench/run.py --ab /tmp/base/.venv/bin/raqib --pages 500 --repeat 5

This machine's speed drifts by ±30% between runs (and the naive loop with it),
so a before/after taken from two runs of `bench/run.py` can show a gain or a
loss that is the machine's. Here both installs fetch the same pages from one
server, each into its own home, one right after the other, the order swapped
every round: `--first` rounds of a first pass (each after the first on fresh
homes), then `--repeat` rounds of a churn pass and a 304 pass, then churn with
10% of the articles edited. Each row is the median of its rounds: pages per
second (start-up included) and CPU per page (the machine's busy time minus
this process, which serves the pages). Dirty pages are written out before
each pass, so one install's writes are not counted in the next one's pass.
Both must record the same outcomes. When both report their CPU by stage
(`raqib check --json`'s cpu_seconds), each stage's median milliseconds a page
is printed too: where a change moved the work. Writes
bench/results/ab-<N>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import compiled, machine_busy, self_cpu
from bench.run import BENCH_CONFIG, ROOT
from bench.serving import Server, Site

KINDS = ("first", "churn", "304", "edited")


def _pass(exe: str, home: Path, n: int) -> dict[str, Any]:
    os.sync()  # the last pass's writes, flushed now rather than during this one
    busy, own = machine_busy(), self_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [exe, "--home", str(home), "check", "--all", "--json"], capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    cpu = (machine_busy() - busy) - (self_cpu() - own)
    if proc.returncode != 0:
        raise SystemExit(f"{exe} check failed:\n{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    return {
        "pages_per_s": round(n / wall, 1),
        "cpu_ms_per_page": round(1000 * cpu / n, 2),
        "outcomes": summary["outcomes"],
        "cpu_seconds": summary.get("cpu_seconds"),  # by stage; absent before 2026-12-04
    }


def _by_stage(runs: list[dict[str, Any]], n: int) -> dict[str, float] | None:
    """Median CPU milliseconds a page of each stage the pass reported, if every run did."""
    reported = [r["cpu_seconds"] for r in runs if r.get("cpu_seconds")]
    if not runs or len(reported) < len(runs):
        return None
    return {
        stage: round(1000 * statistics.median(c.get(stage, 0.0) for c in reported) / n, 2)
        for stage in reported[0]
    }


def _help(exe: str, command: str) -> str:
    return subprocess.run(
        [exe, command, "--help"], capture_output=True, text=True, check=True
    ).stdout


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(
        prog="bench/run.py --ab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("baseline", help="the baseline's `raqib` program")
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3, help="churn and 304 rounds")
    ap.add_argument("--first", type=int, default=2, help="first-pass rounds (fresh homes)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args(argv)
    here = Path(sys.executable).with_name("raqib")
    exes = {"baseline": args.baseline, "this": str(here)}
    for exe in exes.values():
        if not Path(exe).is_file():
            raise SystemExit(f"no raqib program at {exe}")
        compiled(exe)  # both as installed from a wheel
    n = args.pages
    tmp = Path(tempfile.mkdtemp(prefix="raqib-ab-"))
    site = Site(n)
    server = Server(site)
    urls = "\n".join(f"{site.base}/news/{i}" for i in range(n))

    # A list on 127.0.0.1 needs --allow-private since 2026-12-05; older builds lack it.
    listing = {
        name: ["--allow-private"] if "--allow-private" in _help(exe, "watch") else []
        for name, exe in exes.items()
    }

    def new_homes(label: str) -> dict[str, Path]:
        homes = {}
        for name, exe in exes.items():
            home = homes[name] = tmp / f"{name}-{label}"
            home.mkdir()
            (home / "raqib.toml").write_text(BENCH_CONFIG, encoding="utf-8")
            subprocess.run(
                [exe, "--home", str(home), "watch", "-", *listing[name]],
                input=urls,
                text=True,
                capture_output=True,
                check=True,
            )
        return homes

    homes = new_homes("0")
    print(f"A/B: {n} pages on {site.base}; baseline {exes['baseline']}", flush=True)
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
        k: {"baseline": [], "this": []} for k in KINDS
    }

    def both(kind: str, swap: bool, at: dict[str, Path] = homes) -> None:
        for name in reversed(exes) if swap else exes:
            r = _pass(exes[name], at[name], n)
            rounds[kind][name].append(r)
            print(
                f"  {kind:7s} {name:9s} {r['pages_per_s']:7.1f} pages/s "
                f"{r['cpu_ms_per_page']:6.2f} ms CPU/page  {r['outcomes']}",
                flush=True,
            )
        a, b = (rounds[kind][k][-1]["outcomes"] for k in exes)
        if a != b:
            raise SystemExit(f"{kind}: the two installs recorded {a} and {b}")

    site.prepare({}, churn=0)
    both("first", False)
    for i in range(1, args.first):  # a first pass needs new homes; the later passes use the first's
        spare = new_homes(str(i))
        both("first", i % 2 == 1, spare)
        for home in spare.values():
            shutil.rmtree(home, ignore_errors=True)
    for i in range(args.repeat):
        site.prepare({}, churn=i + 1)
        both("churn", i % 2 == 1)
        site.honour_validators = True
        both("304", i % 2 == 0)
        site.honour_validators = False
    site.prepare({i: 1 for i in range(0, n, 10)}, churn=args.repeat + 1)
    both("edited", True)
    server.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)

    summary = {}
    print(f"\n{'pass':8s} {'baseline':>22s} {'this checkout':>24s}   rate   CPU/page")
    for kind in KINDS:
        med = {
            name: {
                key: statistics.median(r[key] for r in rounds[kind][name])
                for key in ("pages_per_s", "cpu_ms_per_page")
            }
            for name in exes
        }
        a, b = med["baseline"], med["this"]
        summary[kind] = {
            **med,
            "rate": round(b["pages_per_s"] / a["pages_per_s"], 2),
            "cpu": round(b["cpu_ms_per_page"] / a["cpu_ms_per_page"], 2),
        }
        print(
            f"{kind:8s} {a['pages_per_s']:7.1f}/s {a['cpu_ms_per_page']:6.2f} ms/page   "
            f"{b['pages_per_s']:7.1f}/s {b['cpu_ms_per_page']:6.2f} ms/page   "
            f"×{summary[kind]['rate']:.2f}  ×{summary[kind]['cpu']:.2f}"
        )
    staged = {k: {name: _by_stage(rounds[k][name], n) for name in exes} for k in KINDS}
    if all(v["baseline"] and v["this"] for v in staged.values()):
        print("\nCPU by stage, ms a page (medians; baseline → this checkout):")
        for kind, v in staged.items():
            before, after = v["baseline"], v["this"]
            assert before is not None and after is not None
            pairs = (f"{k} {before[k]:.2f}→{after.get(k, 0.0):.2f}" for k in before)
            print(f"{kind:8s} " + "  ".join(pairs))
            summary[kind]["stages_ms_per_page"] = v
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"ab-{n}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(
        json.dumps(
            {"pages": n, "baseline": exes["baseline"], "rounds": rounds, "summary": summary},
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\nwrote {out}")
