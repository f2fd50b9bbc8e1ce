"""Bursts of imports, without the garbage collections they set off.

What a command imports (SQLAlchemy and the models, then Scrapy and its
components for a crawl) lives as long as the process. The collections that
imports of this size set off find nothing to free, and a collection in a pass
walks all of it again. So a burst of imports runs with collection paused, and
in a Raqib program (`raqib`, the forkserver) what it made is then frozen:
later collections no longer walk it. A peers' pass spent 0.15-0.19 s of CPU
in collections, 0.07 s with this (most of it was the Scrapy imports of the
outlet read).

Freezing is for a process of Raqib's own. A process that only hosts Raqib (a
test run, a notebook) keeps its garbage collectable: a freeze there would
also keep whatever unreachable cycles it held at that moment.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

_freeze = False


def own_process() -> None:
    """This process is a Raqib program: the bursts of imports from now on
    freeze what they made."""
    global _freeze
    _freeze = True


@contextmanager
def importing() -> Iterator[None]:
    """No collection while the block imports; in a Raqib program, what it made
    is frozen afterwards, if it imported anything. A block that found its
    modules loaded (the next batch of a pass) freezes nothing: the heap then
    holds the last batch's garbage, which must stay collectable."""
    enabled = gc.isenabled()
    loaded = len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        if _freeze and len(sys.modules) > loaded:
            gc.freeze()
        if enabled:
            gc.enable()
