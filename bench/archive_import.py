"""Archive import: `raqib import` of a synthetic export, its time and its memory.

    python bench/archive_import.py                        # 100 watches × 5 versions of 100 kB
    python bench/archive_import.py --watches 400 --kb 200
    python bench/archive_import.py --baseline /tmp/base/.venv/bin/raqib   # the same file, both

Writes an export of `raqib export --format jsonl`'s shape: each watch's
versions are its text with one more sentence edited each time, so the
import judges a change per version as a pass would. Then imports it into a
fresh home (SQLite) and reports the wall time and the peak memory (PSS) of
the process. With --baseline, another install imports the same file into a
home of its own, before this checkout does, in the same run.
Writes bench/results/archive-import-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import TreeMemory, command
from raqib.extract.page import content_hash

SENTENCE = "وقال المسؤول إن المفاوضات مستمرة بين الطرفين حول {n} نقطة خلافية في الملف. "


def _text(n_chars: int, edits: int) -> str:
    sentences, i = [], 0
    while sum(map(len, sentences)) < n_chars:
        sentences.append(SENTENCE.format(n=i + 1000 * (i < edits)))
        i += 1
    return "".join(sentences)


def write_export(path: Path, watches: int, versions: int, kb: int) -> int:
    """The export's bytes: one watch record, then its versions."""
    stamp = "2026-01-01T00:00:00+00:00"
    with path.open("w", encoding="utf-8") as f:
        for w in range(watches):
            url = f"https://archive{w % 7}.example/news/2026/{w}"
            f.write(json.dumps({
                "record": "watch", "schema": "raqib.watch/1", "id": w + 1, "url": url,
                "story": None, "stories": [], "tags": ["bench"], "outlet": None,
                "origin": "manual", "found_via": None, "score": None, "matched_terms": None,
                "title": f"خبر {w}", "state": "active", "versions": versions,
                "added_at": stamp, "last_checked_at": stamp, "last_outcome": "unchanged",
                "next_check_at": stamp, "aliases": [],
            }, ensure_ascii=False) + "\n")  # fmt: skip
            for v in range(1, versions + 1):
                title, text = f"خبر {w}", _text(kb * 1000 // 2, v - 1)  # Arabic: 2 bytes a letter
                f.write(json.dumps({
                    "record": "version", "schema": "raqib.version/1", "watch_url": url,
                    "version": v, "first_seen": stamp, "last_seen": stamp, "title": title,
                    "byline": None, "published": None, "modified": None, "notices": [],
                    "language": "ar", "url": url, "text": text,
                    "content_hash": content_hash(title, text), "raw_sha256": None,
                    "extractor": "bench", "warc": None, "evidence": None,
                }, ensure_ascii=False) + "\n")  # fmt: skip
    return path.stat().st_size


def run(exe: str | None, home: Path, export: Path) -> dict[str, Any]:
    cmd, env = command(home, "import", str(export))
    if exe is not None:
        cmd[0] = exe
    started = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(p.pid, every=0.05)
    out, err = p.communicate()
    seconds, peak = time.monotonic() - started, memory.stop()
    if p.returncode != 0:
        raise SystemExit(f"raqib import failed ({p.returncode}): {err}")
    return {"seconds": round(seconds, 2), "peak_mb": round(peak / 1024, 1), "said": out.strip()}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--watches", type=int, default=100)
    ap.add_argument("--versions", type=int, default=5)
    ap.add_argument("--kb", type=int, default=100, help="each version's text, in kB of UTF-8")
    ap.add_argument("--baseline", help="another install's `raqib`, run on the same file first")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="raqib-archive-") as tmp:
        export = Path(tmp) / "export.jsonl"
        size = write_export(export, args.watches, args.versions, args.kb)
        print(f"export: {args.watches} watches × {args.versions} versions, {size / 1e6:.1f} MB")
        results: dict[str, Any] = {
            "file_mb": round(size / 1e6, 1),
            "args": vars(args) | {"out": None},
        }
        for label, exe in (("baseline", args.baseline), ("this", None)):
            if label == "baseline" and exe is None:
                continue
            r = results[label] = run(exe, Path(tmp) / label, export)
            print(f"{label}: {r['seconds']} s, peak {r['peak_mb']} MB — {r['said']}")
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.out / f"archive-import-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    name.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {name}")


if __name__ == "__main__":
    main()
