"""Page furniture: comments, menus, sidebars, footers and the site's header —
what churns on every fetch and is never article text. An article's own
<header> (inside <main> or <article>, or marked as the entry's) is not."""

from __future__ import annotations

import re
from typing import Any

SKIP_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "head",
    "title",
    "option",
    "textarea",
}


_FURNITURE = re.compile(
    r"comment|reply|respond|disqus|sidebar|widget|menu|\bnav|footer|related|popular|most-?read"
    r"|ticker|breaking|advert|\bpromos?\b|banner|newsletter|subscribe|social|(?:^|[\s_-])ads?(?:$|[\s_-])",
    re.I,
)
_FURNITURE_TAGS = {"nav", "aside", "footer", "header", "form"}


def marks_furniture(el: Any) -> bool:
    """Whether this element itself is a comment block, menu, sidebar or footer."""
    return el.tag in _FURNITURE_TAGS or bool(
        _FURNITURE.search(f"{el.get('class', '')} {el.get('id', '')}")
    )


_ARTICLE_MARK = re.compile(r"article|entry|post|story|content|news", re.IGNORECASE)


def article_header(el: Any) -> bool:
    """A <header> that heads the article, not the site (inside <main> or
    <article>, or marked as the entry's or story's header)."""
    if _ARTICLE_MARK.search(f"{el.get('class', '')} {el.get('id', '')}"):
        return True
    return any(a.tag in ("main", "article") for a in el.iterancestors())


def heads_the_article(el: Any) -> bool:
    """Inside an article's <header>, and in no other furniture."""
    holders = [a for a in (el, *el.iterancestors()) if marks_furniture(a)]
    return bool(holders) and all(a.tag == "header" and article_header(a) for a in holders)


def is_furniture(el: Any) -> bool:
    """Whether an element sits in comments, menus, sidebars or footers (by its ancestry)."""
    return any(marks_furniture(node) for node in (el, *el.iterancestors()))


def furniture_elements(root: Any) -> set[Any]:
    """Elements inside comments, menus, sidebars and footers."""
    inside: set[Any] = set()
    stack = [(root, False)]
    while stack:
        el, within = stack.pop()
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            continue
        within = within or marks_furniture(el)
        if within:
            inside.add(el)
        stack.extend((child, within) for child in el)
    return inside


# A line that is only a counter: views, reads, comments, shares (page furniture
# that changes on every fetch, and often sits inside <article>).
_UNIT = (
    r"مرة|مرات|مشاهدة|مشاهدات|قراءة|قراءات|تعليق(?:اً|ًا|ا)?|تعليقات|مشاركة|مشاركات|إعجاب(?:اً|ًا|ا)?"
    r"|views?|reads?|comments?|shares?|likes?"
)
COUNTER = re.compile(
    r"^\W*(?:(?:شوهد|قرئ|قُرئ)\s+)?[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫\s]*\s*(?:" + _UNIT + r")\W*$"
    r"|^\W*(?:عدد\s+)?(?:المشاهدات|القراءات|التعليقات|views|comments)\s*[:：]?\s*[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫]*\W*$",
    re.IGNORECASE,
)
_COUNTERISH = re.compile(r"view|count|hits|reads?\b|stat|share|comments", re.I)
_BARE_NUMBER = re.compile(r"^\W*[\d٠-٩۰-۹][\d٠-٩۰-۹,.٬٫\s]*[kKمأ]?\W*$")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def is_counter(el: Any) -> bool:
    """A view, read or comment counter standing on its own: its text is only a
    count ("12 تعليقاً"; a bare number when the element is marked as a
    counter), and no words sit right before or after it in its parent.

    The extractor removes these before extracting and the region check leaves
    them out of its digest, by this one rule: the two must agree. A figure
    inside a sentence is never one (words sit around it)."""
    if not isinstance(el.tag, str) or el.tag in SKIP_TAGS or len(el) > 2:
        return False
    # A count has a digit in the element's own text or a child's: a cheap test
    # first, as this runs on every element of every page.
    near = [el.text or "", *((c.text or "") + (c.tail or "") for c in el)]
    if not any(_DIGIT.search(t) for t in near if t):
        return False
    text = " ".join(el.text_content().split())
    if not text or len(text) > 60:
        return False
    if not COUNTER.match(text):
        marks = f"{el.get('class', '')} {el.get('id', '')}"
        if not (_BARE_NUMBER.match(text) and _COUNTERISH.search(marks)):
            return False
    parent = el.getparent()
    if parent is None:
        return True
    prev = el.getprevious()
    before = (prev.tail if prev is not None else parent.text) or ""
    return not (_LETTER.search(before) or _LETTER.search(el.tail or ""))


def counters(root: Any) -> list[Any]:
    """The outermost counter elements under root."""
    out: list[Any] = []
    stack = list(reversed(root))
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            continue
        if is_counter(el):
            out.append(el)
        else:
            stack.extend(reversed(el))
    return out


def beside_the_article(el: Any) -> bool:
    """In a sidebar, menu, footer or comment block that does not also hold the
    headline: a "last updated" clock there is the site's, not the article's
    (read as a notice, it would mark a silent edit as announced)."""
    for node in (el, *el.iterancestors()):
        if node.tag in ("body", "html"):
            return False
        if (
            marks_furniture(node)
            and not (node.tag == "header" and article_header(node))
            and node.find(".//h1") is None
        ):
            return True
    return False
