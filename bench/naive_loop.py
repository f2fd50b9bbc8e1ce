"""The peers' naive loop of issue 19, run as a process of its own so that its
start-up, memory and CPU count as Raqib's do.

    python bench/naive_loop.py FEED_URL STATE_JSON
    python bench/naive_loop.py --urls FILE STATE_JSON

Reads the RSS feed (or the file's URLs, one a line), then one article after
another: requests.get → trafilatura.extract → sha256, compared with the hash
STATE_JSON kept from the previous round. Prints {"pages": n, "changed":
[urls], "loop_seconds": s, "loop_cpu_s": s} on stdout: the last two time the
loop alone, from the first article's fetch to the last one's hash, after the
imports and the feed. Imports nothing from Raqib or the bench, so its memory
is the loop's alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
import trafilatura


def main() -> None:
    if sys.argv[1] == "--urls":
        links = Path(sys.argv[2]).read_text().split()
        state = Path(sys.argv[3])
    else:
        feed = ET.fromstring(requests.get(sys.argv[1], timeout=30).content)
        links = [item.findtext("link") or "" for item in feed.iter("item")]
        state = Path(sys.argv[2])
    previous = json.loads(state.read_text()) if state.exists() else {}
    hashes, changed = {}, []
    wall, cpu = time.perf_counter(), time.process_time()
    for url in links:
        html = requests.get(url, timeout=30).text
        text = trafilatura.extract(html) or ""
        hashes[url] = hashlib.sha256(text.encode()).hexdigest()
        if previous.get(url) != hashes[url]:
            changed.append(url)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    state.write_text(json.dumps(hashes))
    print(
        json.dumps(
            {
                "pages": len(links), "changed": changed,
                "loop_seconds": round(wall, 3), "loop_cpu_s": round(cpu, 3),
            }
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
