"""A page's dates in its `<time>` elements, and which are another's: a list
of other stories' (a sidebar, a widget, a related list), the site's header
(its clock) or footer, a sidebar column no class names."""

from __future__ import annotations

import itertools
import re
from typing import Any

from raqib.extract.furniture import STORY_LISTS, article_header, side_column

# Where a list of other stories sits, each with its date: a sidebar, a widget, a
# related, popular or latest list (not a footer, a byline's bar or a ticker's box).
_STORY_LIST = re.compile(
    # (not a layout's wrapper: Genesis's "content-sidebar-wrap" holds the article)
    r"(?<!content-)sidebar(?![-_]wrap)|widget|more-?news|read-?also|" + STORY_LISTS,
    re.IGNORECASE,
)
MAX_TIME_TAGS = 500  # a page's own dates come early; a stranger's 24,000 cost nothing


def dates(root: Any) -> tuple[str | None, str | None]:
    """The page's modified and published dates its `<time>`s say (the first of each)."""
    modified = published = None
    times = [el for el in itertools.islice(root.iter("time"), MAX_TIME_TAGS) if el.get("datetime")]
    headed: set[Any] = set()  # every element holding an <h1>: the article's side
    h1s = list(itertools.islice(root.iter("h1"), MAX_TIME_TAGS)) if times else []
    for h1 in h1s:
        for node in (h1, *h1.iterancestors()):
            if node in headed:
                break  # and so are its ancestors
            headed.add(node)
    seen: dict[Any, Any] = {"h1s": len(h1s)}  # each ancestor's verdict, once: times share them
    for el in times:
        dt = (el.get("datetime") or "").strip()
        if not dt or _in_a_list(el, headed, seen):
            continue
        marks = f"{el.get('itemprop', '')} {el.get('class', '')}".lower()
        if ("datemodified" in marks or "updated" in marks) and not modified:
            modified = dt[:64]
        elif ("datepublished" in marks or "published" in marks) and not published:
            published = dt[:64]
    return modified, published


def _in_a_list(time: Any, headed: set[Any], seen: dict[Any, Any]) -> bool:
    """A <time> in a list of other stories (in or out of the article, cards of
    <article>s too) before any element holding the headline: another story's.
    Or the site's: in its header before the headline (its clock, "الاثنين 7
    ديسمبر"), or in its footer; a header or footer marked as the article's,
    inside <article> or <main>, or beside the headline in an element marked as
    the article's (`<div class="post">`), is the article's. `seen`: verdicts so far."""
    header = footer = site = False
    below = time
    for node in time.iterancestors():
        if node in headed:  # the headline's side: the site's header only before it
            if ("logo", node) not in seen:
                seen["logo", node] = _logo(node, seen)
            if seen["logo", node]:
                return True  # the site's header holding its logo's <h1>, the headline elsewhere
            if not (header or footer) or (not site and _article_side(node)):
                return False
            if ("order", node) not in seen:
                seen["order", node] = _order(node, headed)
            places, headline = seen["order", node]
            return footer or places.get(below, headline) < headline
        kind = _kind_of(node, seen)
        if kind == "list":
            return True
        header, footer = header or kind == "header", footer or kind == "footer"
        site = site or (bool(kind) and bool(_SITE.search(_marks(node))))
        below = node
    return False


def _logo(node: Any, seen: dict[Any, Any]) -> bool:
    """A header (not the article's) holding an <h1> while another <h1> is outside it."""
    return _kind_of(node, seen) == "header" and sum(1 for _ in node.iter("h1")) < seen["h1s"]


def _kind_of(node: Any, seen: dict[Any, Any]) -> str:
    """`_kind`, once a node."""
    if node not in seen:
        seen[node] = _kind(node)
    return str(seen[node])


def _marks(node: Any) -> str:
    return f"{node.get('class', '')} {node.get('id', '')}"[:500]


def _kind(node: Any) -> str:
    """ "list" (of other stories), the site's "header" or "footer", or ""."""
    marks = _marks(node)
    if node.tag in ("aside", "nav") or _STORY_LIST.search(marks) or side_column(node):
        return "list"
    if (node.tag in ("header", "footer") or _MASTHEAD.search(marks)) and not article_header(node):
        return "footer" if node.tag == "footer" else "header"
    return ""


def _order(common: Any, headed: set[Any]) -> tuple[dict[Any, int], int]:
    """Each child's place in `common`, and the first holding the headline's: once
    for every <time> under it (a stranger's 48,000 siblings, each walked again)."""
    places = {c: k for k, c in enumerate(common)}
    return places, next((k for c, k in places.items() if c in headed), len(places))


def _article_side(node: Any) -> bool:
    """An element marked as the article's, by a whole name (not the body's "single"
    of WordPress, which holds the site's header too, nor "story-wrapper")."""
    if node.tag in ("body", "html"):
        return False
    return not _ARTICLE_NAMES.isdisjoint(_marks(node).lower().split())


_ARTICLE_NAMES = frozenset({"post", "article", "entry", "story", "single", "hentry"})
# A header or footer named as the site's stays the site's, wherever it sits.
_SITE = re.compile(r"(?<![a-z])(?:site|masthead|top-?bar|colophon)", re.IGNORECASE)
# A site's header named so; "header" alone too (not "entry-header": that is furniture's).
_MASTHEAD = re.compile(
    r"masthead|site-?header|top-?bar|header-?top|(?<![\w-])header(?![\w-])", re.IGNORECASE
)
