"""What reading a long history costs: the front page's latest changes
(`newsroom`), its list of stories with their badges (`index_view`), in CPU
time, best of 3, and the peak memory of `raqib changes --json`.

    python bench/history_reads.py HOME        # a copy: it is upgraded in place

HOME is a home with months of history (the figures in the README came from a
helper's simulated six months: 3,000 watches, 8,100 changes). Changes an
older analyzer judged are first stored again by this one, as passes do, so
that the figures are those of a home that has caught up.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main(home: Path) -> None:
    from raqib import analysis
    from raqib.app.home import open_app
    from raqib.app.newsroom import newsroom
    from raqib.report import views

    app = open_app(home)
    started, n = time.process_time(), 0
    while k := analysis.upgrade_stale(app.storage, limit=1000):
        n += k
    if n:
        print(f"stored {n} changes again in {time.process_time() - started:.1f} s of CPU")
    for label, read in (
        ("newsroom (the latest 200)", lambda: newsroom(app)),
        ("index_view (every article)", lambda: views.index_view(app.storage, None)),
    ):
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            read()
            best = min(best, time.process_time() - t)
        print(f"{label:28} {best:.2f} s of CPU")
    app.close()
    cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "raqib", "--home", str(home)]
    p = subprocess.run([*cmd, "changes", "--json"], capture_output=True, text=True, check=True)
    print(f"{'raqib changes --json':28} {int(p.stderr.split()[-1]) / 1024:.0f} MB peak")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
