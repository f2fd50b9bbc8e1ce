"""Raqib (رقيب): watch news articles, keep every version, highlight silent edits.

One import package. The client's folders at the repository root are mapped
into it by setuptools (`crawler/` → `raqib.crawler`, `storage/` →
`raqib.storage`, `diffs/` → `raqib.diffs`, `scheduler.py` →
`raqib.scheduler`); everything else lives here.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # Looked up on demand: importlib.metadata costs every process 30 ms.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("raqib")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0+unknown"
    raise AttributeError(name)
