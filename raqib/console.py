"""How Raqib writes to the terminal: one stderr handler that decides the level
(Scrapy opens its loggers wide), minus the loggers that are only noise."""

from __future__ import annotations

import logging
import sys

# A site that is down is recorded in the fetch log; the robots.txt middleware
# would also print a traceback for it. apprise logs channel URLs, tokens
# included; Raqib reports its errors itself.
_QUIET = ("scrapy.downloadermiddlewares.robotstxt", "apprise")


def setup(level: int) -> None:
    """Log to stderr at `level`; below WARNING (asked for with -v) nothing is filtered."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    # Dated, with its zone: a daemon's or cron's log (`>> raqib.log`) says when.
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    )
    if level >= logging.WARNING:
        handler.addFilter(lambda r: not r.name.startswith(_QUIET))
    logging.root.handlers[:] = [handler]
    logging.root.setLevel(level)


def level() -> int:
    """The level setup() chose (what a pass's other processes should use)."""
    handlers = logging.root.handlers
    return handlers[0].level if handlers and handlers[0].level else logging.root.level


def at_least_info() -> None:
    """The daemon reports each sweep: INFO reaches stderr whatever -v says."""
    logging.getLogger("raqib").setLevel(
        min(logging.getLogger("raqib").getEffectiveLevel(), logging.INFO)
    )
    logging.getLogger("raqib.daemon").setLevel(logging.INFO)
    for h in logging.root.handlers:
        h.setLevel(min(h.level, logging.INFO))
