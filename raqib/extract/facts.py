"""What several readers of one parsed page work out alike, worked out once.

A first fetch, or a refetch whose region check failed, reads the page's tree
up to three times: the region check's digest, the extractor (on a copy it
prunes) and the new region's digest. Each wants the page's ledes and its
link texts, both pure functions of the unpruned tree; they cost a tenth of an
extraction each time.
"""

from __future__ import annotations

from typing import Any

from raqib.extract import header
from raqib.extract.pagemeta import link_texts


class Facts:
    """The ledes and link texts of one unpruned tree, each computed on first
    use. Callers read them and never change them."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._ledes: list[str] | None = None
        self._links: tuple[set[str], set[str]] | None = None

    def ledes(self) -> list[str]:
        if self._ledes is None:
            self._ledes = header.ledes(self.root)
        return self._ledes

    def link_texts(self) -> tuple[set[str], set[str]]:
        """(link-only block texts, every link's text): pagemeta.link_texts."""
        if self._links is None:
            self._links = link_texts(self.root)
        return self._links
