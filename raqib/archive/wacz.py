"""A WACZ package (Web Archive Collection Zipped) of an export's captures:
the WARC, its CDXJ index and a page list in one file that ReplayWeb.page
opens and pywb's `wb-manager add` takes. Built by the `wacz` package from
the WARC export, so the captures inside are the archive's bytes unchanged."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from datetime import UTC
from pathlib import Path

from raqib.archive.export import Selection, watches_of, write_warc
from raqib.archive.leftovers import sweep_stale
from raqib.storage import Storage


class WaczError(Exception):
    pass


def _pages(storage: Storage, sel: Selection) -> str:
    """The package's page list: each article at its latest version, titled.
    (The wacz tool's own page detection drops pages no other page links to.)"""
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Raqib"})]
    for w in watches_of(storage, sel):
        versions = storage.history.versions(w.id)
        if versions:
            latest = versions[-1]
            when = latest.first_seen.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            # Where the page was served: a watch's own URL may only redirect there,
            # and the archive holds no capture of it to replay.
            page = {"url": latest.url or w.url, "ts": when, "title": latest.title or w.url}
            lines.append(json.dumps(page, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def write_wacz(storage: Storage, warc_dir: Path, out: Path, sel: Selection) -> int:
    """Package the selection's captures as `out`; returns the number of captures.
    The file appears whole or not at all."""
    from wacz.main import main as wacz_main  # imported here: a large dependency tree

    sweep_stale(out.parent, ".raqib-wacz-")
    with tempfile.TemporaryDirectory(prefix=".raqib-wacz-", dir=out.parent) as tmp:
        warc = Path(tmp) / "raqib.warc.gz"
        with warc.open("wb") as f:
            n = write_warc(storage, warc_dir, f, sel, name=out.with_suffix(".warc.gz").name)
        if n == 0:
            raise WaczError(f"no captures of {sel.describe()} to package")
        pages = Path(tmp) / "pages.jsonl"
        pages.write_text(_pages(storage, sel), encoding="utf-8")
        built = Path(tmp) / out.name
        said = io.StringIO()  # the wacz tool prints its progress: keep it for errors
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            code = wacz_main(
                [
                    "create", "-o", str(built), "--pages", str(pages), "--copy-pages",
                    "--title", f"Raqib: {sel.describe()}",
                    "--desc", "Captures of watched articles, as Raqib fetched them",
                    str(warc),
                ]
            )  # fmt: skip
        if code not in (0, None) or not built.exists():
            raise WaczError(f"the wacz tool failed: {said.getvalue().strip()[-500:]}")
        os.replace(built, out)
    return n
