"""What an unchanged refetch costs to analyse, page by page: parse, region
check, and (when the check fails) full extraction. Runs in-process, no
fetching, so the figure is the analysis alone.

    python bench/region_check.py                      # saved real pages and bench pages
    python bench/region_check.py --ab /tmp/base/.venv/bin/python

The real pages are ../shared/realpages (for measuring only: their text
belongs to their publishers); each is analysed once to find its region,
then timed as a refetch of the same bytes. The bench pages are bench/pages.py
at churn 1 over a region found at churn 0 (templates 0, 1 and 3 pass the
check; the table-layout template 2 does not, and is extracted in full).
With --ab, the baseline's interpreter runs the same measurement, the two
alternating `--rounds` times; each figure is the best of its rounds, in
milliseconds per page.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALPAGES = ROOT.parent / "shared" / "realpages"


def _pages() -> dict[str, list[tuple[str, str]]]:
    """(first fetch, refetch) pairs of each set."""
    # By its path: with the checkout on sys.path, a baseline's interpreter
    # would import this checkout's raqib instead of its own.
    spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
    assert spec is not None and spec.loader is not None
    pages = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # for its dataclasses
    spec.loader.exec_module(pages)
    render = pages.render

    real = [
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(REALPAGES.glob("*.html"))
    ]
    base = "http://127.0.0.1:1"
    out = {"real": [(h, h) for h in real]}
    for t in range(4):
        out[f"bench template {t}"] = [
            (render(p, 0, 0, base).decode(), render(p, 0, 1, base).decode())
            for p in range(t, 200, 4)
        ]
    return out


def measure(repeat: int) -> dict[str, dict[str, float]]:
    """ms/page of each set's refetch analysis, and how many passed the check."""
    from raqib.extract.page import Same, analyze

    result = {}
    for name, pairs in _pages().items():
        regions = [getattr(analyze(a, "http://x/a", None), "region", None) for a, _ in pairs]
        same = 0
        t0 = time.perf_counter()
        for _ in range(repeat):
            for (_, b), region in zip(pairs, regions, strict=True):
                same += isinstance(analyze(b, "http://x/a", region), Same)
        ms = (time.perf_counter() - t0) * 1000 / (repeat * len(pairs))
        result[name] = {"ms": round(ms, 3), "same": same // repeat, "pages": len(pairs)}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ab", metavar="PYTHON", help="the baseline's interpreter")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="times each page is analysed a round")
    ap.add_argument(
        "--json", action="store_true", help=argparse.SUPPRESS
    )  # one measurement, for --ab
    args = ap.parse_args()
    if not REALPAGES.is_dir():
        raise SystemExit(f"{REALPAGES} is missing: the saved real pages sit beside the checkout")
    if args.json:
        print(json.dumps(measure(args.repeat)))
        return
    sides = {"this": sys.executable, **({"baseline": args.ab} if args.ab else {})}
    best: dict[str, dict[str, dict[str, float]]] = {}
    for r in range(args.rounds):
        for side in sides if r % 2 == 0 else reversed(list(sides)):
            out = subprocess.run(
                [sides[side], __file__, "--json", "--repeat", str(args.repeat)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            for name, row in json.loads(out.stdout).items():
                kept = best.setdefault(side, {}).setdefault(name, row)
                if row["ms"] < kept["ms"]:
                    best[side][name] = row
    print(f"{'pages':22s} " + "".join(f"{s:>22s}" for s in sides) + ("   ratio" if args.ab else ""))
    for name, row in best["this"].items():
        cells = "".join(
            f"{best[s][name]['ms']:8.2f} ms ({best[s][name]['same']:>3}/{row['pages']} same)"
            for s in sides
        )
        ratio = f"   ×{best['baseline'][name]['ms'] / row['ms']:.2f}" if args.ab else ""
        print(f"{name:22s} {cells}{ratio}")


if __name__ == "__main__":
    main()
