"""Markup that breaks parsers, made parseable in bounded time and memory.

libxml2 stops building the tree past 256 levels of nesting, so an article
wrapped in thousands of divs came out empty. Wrappers past MAX_DEPTH are
dropped here (their content is kept, one level up): one linear scan of the
tags, run only on a page whose parse stopped there (extract.article.parse).
"""

from __future__ import annotations

import re

MAX_DEPTH = 200
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)\b[^>]*?(/?)>")
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
_RAW = {"script", "style", "textarea", "title"}  # their content is text, not tags


def flatten(html: str, limit: int = MAX_DEPTH) -> str:
    """The page with every element nested deeper than `limit` unwrapped."""
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (tag, kept)
    kept_depth = 0
    pos = 0
    raw_until: str | None = None
    for m in _TAG.finditer(html):
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if raw_until is not None:
            if closing and name == raw_until:
                raw_until = None
            else:
                continue  # inside a script or style: leave it as it is
        out.append(html[pos : m.start()])
        pos = m.end()
        tag = m.group(0)
        if name in _VOID or self_closing:
            out.append(tag)
            continue
        if not closing:
            keep = kept_depth < limit or name in _RAW
            stack.append((name, keep))
            if keep:
                kept_depth += 1
                out.append(tag)
            if name in _RAW:
                raw_until = name
            continue
        if not any(t == name for t, _k in stack):
            continue  # a stray end tag
        while stack:
            t, kept = stack.pop()
            if kept:
                kept_depth -= 1
                out.append(f"</{t}>")
            if t == name:
                break
    out.append(html[pos:])
    return "".join(out)
