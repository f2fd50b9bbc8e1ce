"""Raqib (رقيب): watch news articles, keep every version, highlight silent edits.

One import package. The client's folders at the repository root are mapped
into it by setuptools (`crawler/` → `raqib.crawler`, `storage/` →
`raqib.storage`, `diffs/` → `raqib.diffs`, `scheduler.py` →
`raqib.scheduler`); everything else lives here.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("raqib")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0+unknown"
