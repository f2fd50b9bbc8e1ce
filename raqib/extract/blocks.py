"""A glued text split back into the page's own paragraphs.

When its main algorithm finds less than MIN_EXTRACTED_SIZE of text,
trafilatura takes a container's whole text as one line (its baseline rescue).
A two-paragraph story then comes out as one paragraph with its headline in
front, and when the story grows past that size its paragraphs come apart and
the headline leaves the text: that reads as an edit of the first paragraph.
Here the container is found again in the page and its text taken block by
block, and only when those blocks hold exactly the glued text (compared by
matching key), so nothing is lost or added.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from raqib.extract.furniture import counters
from raqib.extract.parsing import parse
from raqib.normalize.arabic import compact_key

# The rescue's range: its threshold (250 characters) and a headline beside it.
MAX_GLUED = 600

# Elements that start a new line; what trafilatura's rescue drops is skipped.
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4"
    " h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIPPED = frozenset("aside footer fencedframe noscript script style svg template".split())
_ZWNJ = "\N{ZERO WIDTH NON-JOINER}"
_CONTAINERS = "//article[not(ancestor::article)] | //main[not(ancestor::main)] | //body"
# A container this much larger than the glued text cannot hold just it: the
# walk stops there (a stranger's page of 45,000 nested elements stays cheap).
_SLACK_CHARS = 200
_MAX_ELEMENTS = 5_000


def _footer(el: Any) -> bool:
    """trafilatura's rescue drops a div whose class or id says footer."""
    return "footer" in (el.get("class") or "") or "footer" in (el.get("id") or "")


def lines(element: Any, max_chars: int | None = None) -> list[str] | None:
    """The element's text, a line per block, in document order (None: more
    than `max_chars` of it, or more than _MAX_ELEMENTS elements, when bounded)."""
    out: list[str] = []
    run: list[str] = []
    chars = elements = 0

    def close() -> None:
        if text := " ".join("".join(run).split()):
            # What trafilatura strips (direction marks, soft hyphens), but not
            # ZWNJ, which Raqib carries through it (see extract/article.py).
            out.append("".join(ch for ch in text if ch.isprintable() or ch == _ZWNJ))
        run.clear()

    skipping = 0
    for event, el in etree.iterwalk(element, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            elements += 1
            if max_chars is not None and (elements > _MAX_ELEMENTS or chars > max_chars):
                return None
            if skipping or tag in _SKIPPED or (tag == "div" and _footer(el)):
                skipping += 1
                continue
            if tag in _BLOCKS:
                close()
            run.append(el.text or "")
            chars += len((el.text or "").strip())  # indentation is no text
            continue
        if skipping:
            skipping -= 1
            if skipping:
                continue  # a tail inside what is skipped
        elif tag in _BLOCKS:
            close()
        if el is not element:
            run.append(el.tail or "")
            chars += len((el.tail or "").strip())
    close()
    return out


def split(glued: str, html: str) -> list[str] | None:
    """The page's paragraphs whose text is `glued`, or None when no container
    of the page holds exactly that text in more than one block."""
    tree = parse(html)
    if tree is None:
        return None
    for counter in counters(tree):  # extraction drops them too
        counter.drop_tree()
    key = compact_key(glued)
    for container in tree.xpath(_CONTAINERS):
        found = lines(container, max_chars=2 * len(glued) + _SLACK_CHARS)
        if found is not None and len(found) > 1 and compact_key(" ".join(found)) == key:
            return found
    return None
