"""Verdicts on class and id strings, remembered.

The region check and the extractor ask of every element of a page whether
its class or id marks it as furniture, a lede or a byline: a regular
expression per element, a fifth of a region check on a real news page. A
page repeats a few hundred class strings over its elements, and a site
repeats them over its pages, so each verdict is worked out once per string.
Only short strings are remembered: the cache's size stays bounded whatever a
page holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

LONGEST = 200  # characters; longer strings are rare and tested each time
SIZE = 4096  # strings per verdict
# Characters of a string that are tested: a real class or id names itself in
# its first few dozen. A stranger's 38 class strings of 200,000 characters
# each took the pass 7 s of searches; each element is asked about a few times.
MOST = 1000


def searcher(
    pattern: re.Pattern[str], unless: re.Pattern[str] | None = None
) -> Callable[[str], bool]:
    """Whether a string matches `pattern` (and not `unless`), remembered
    for short strings."""

    def test(s: str) -> bool:
        return pattern.search(s) is not None and (unless is None or unless.search(s) is None)

    remembered = functools.lru_cache(maxsize=SIZE)(test)

    def verdict(s: str) -> bool:
        return remembered(s) if len(s) <= LONGEST else test(s[:MOST])

    verdict.cache_info = remembered.cache_info  # type: ignore[attr-defined]
    return verdict
