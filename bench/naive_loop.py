"""The peers' naive loop of issue 19, run as a process of its own so that its
start-up, memory and CPU count as Raqib's do.

    python bench/naive_loop.py FEED_URL STATE_JSON

Reads the RSS feed, then one article after another: requests.get →
trafilatura.extract → sha256, compared with the hash STATE_JSON kept from the
previous round. Prints {"pages": n, "changed": [urls]} on stdout. Imports
nothing from Raqib or the bench, so its memory is the loop's alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
import trafilatura


def main() -> None:
    feed_url, state = sys.argv[1], Path(sys.argv[2])
    previous = json.loads(state.read_text()) if state.exists() else {}
    feed = ET.fromstring(requests.get(feed_url, timeout=30).content)
    links = [item.findtext("link") or "" for item in feed.iter("item")]
    hashes, changed = {}, []
    for url in links:
        html = requests.get(url, timeout=30).text
        text = trafilatura.extract(html) or ""
        hashes[url] = hashlib.sha256(text.encode()).hexdigest()
        if previous.get(url) != hashes[url]:
            changed.append(url)
    state.write_text(json.dumps(hashes))
    print(json.dumps({"pages": len(links), "changed": changed}))


if __name__ == "__main__":
    main()
