"""Markup that breaks parsers, made parseable in bounded time and memory.

libxml2 stops building the tree past 256 levels of nesting, so an article
wrapped in thousands of divs came out empty. Wrappers past MAX_DEPTH are
dropped here (their content is kept, one level up): one linear scan of the
tags, run only on a page whose parse stopped there (extract.article.parse).
"""

from __future__ import annotations

import bisect
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


# libxml2 checks each attribute of a tag against the tag's others: 20,000
# attributes in one tag take 0.56 s to parse, 160,000 take 52 s, and an 8 MB
# page could hold a million. A real tag has a few dozen.
MAX_ATTRIBUTES = 1_000
_WINDOW = 500  # a tag of twice this holds a window of it without a '>'
_ATTRIBUTE = re.compile(r"""[\s/]+[^\s/>"'=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?""")
_RAW_TAG = re.compile(r"<(/?)(script|style)(?=[\s/>])", re.I)  # not <script-x>


def crowded_tag(html: str) -> int:
    """The number of attributes of the first tag that has more than
    MAX_ATTRIBUTES, else 0. Only a tag over a thousand characters long is
    read: the page is probed every _WINDOW characters for a '>', in C, and a
    window without one is inside such a tag, or inside text (a script's JSON,
    say), which is skipped to its end. Not found: a tag whose quoted values
    hold a '>' in every window, or one after a `<script` that is not a tag
    (in a comment): a scan of every tag as libxml2 reads them finds those,
    at 0.2-15 ms a real page (CHANGELOG, 2026-12-06 afternoon)."""
    i, end = 0, len(html)
    raw: list[tuple[int, int]] | None = None  # scripts and styles: text to libxml2
    while i < end:
        if html.find(">", i, i + _WINDOW) != -1:
            i += _WINDOW
            continue
        # The last '>' before i is within a window of it (the probe moved on
        # past one), or i is the '<' a text run was skipped to: look no further.
        lo = max(0, i - _WINDOW)
        start, close = html.rfind("<", lo, i + _WINDOW), html.rfind(">", lo, i)
        opens = html[start + 1 : start + 2]
        if start <= close or not (opens.isascii() and opens.isalpha()):  # in text
            nxt = html.find("<", i + _WINDOW)
            i = end if nxt == -1 else nxt
            continue
        stop = html.find(">", start)
        stop = end if stop == -1 else stop
        if stop - start > 2 * MAX_ATTRIBUTES:  # fewer characters, fewer attributes
            n = sum(1 for _ in _ATTRIBUTE.finditer(html, start + 1, stop))
            if n > MAX_ATTRIBUTES:
                raw = _raw_text(html) if raw is None else raw  # read once, if ever
                k = bisect.bisect_left(raw, (start, end)) - 1
                if k >= 0 and raw[k][0] < start < raw[k][1]:  # a script's `a<b …`
                    i = max(raw[k][1], stop)
                    continue
                return n
        i = stop
    return 0


def _raw_text(html: str) -> list[tuple[int, int]]:
    """Where each script and style runs, from its opening tag to its end, in
    one pass: what looks like a tag inside them is text."""
    out: list[tuple[int, int]] = []
    at, name = -1, ""
    for m in _RAW_TAG.finditer(html):
        closing, tag = m.group(1), m.group(2).lower()
        if at < 0 and not closing:
            at, name = m.start(), tag
        elif at >= 0 and closing and tag == name:
            out.append((at, m.end()))
            at = -1
    if at >= 0:
        out.append((at, len(html)))
    return out
