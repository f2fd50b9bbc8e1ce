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
