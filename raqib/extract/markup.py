"""Markup that breaks parsers, made parseable in bounded time and memory.

libxml2 stops building the tree past 256 levels of nesting, so an article
wrapped in thousands of divs came out empty. Wrappers past MAX_DEPTH are
dropped here (their content is kept, one level up): one linear scan of the
tags, run only on a page whose parse stopped there (extract.parsing.read).
And a tag crowded with attributes, whose parse takes time by their square, is
found before any parse (`crowded_tag`).
"""

from __future__ import annotations

import functools
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
    # Not past the last '>': from a '<' with none after it, _TAG would read
    # to the end of the page, again from every such '<'.
    for m in _TAG.finditer(html, 0, html.rfind(">") + 1):
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
# How libxml2 (2.14, an HTML5 tokenizer) reads a page, as far as it decides
# where a tag starts and ends: ASCII whitespace only; an attribute's name
# starts with any other character but '/' or '>' ('=' too) and runs to a
# space, '/', '>' or '='; a quoted value may hold '>'. Comments,
# and the text of scripts (their escaped states too), styles, titles and the
# rest, are not tags; a script or style closed in its own tag (`<script/>`)
# holds no text. tests/test_markup.py checks this against libxml2 itself.
_WS = "\t\n\f\r "
_ATTRIBUTE = (
    rf"[{_WS}/]*+[^{_WS}/>][^{_WS}/>=]*+"
    rf"""(?:[{_WS}]*+=[{_WS}]*+(?:"[^"]*+"?|'[^']*+'?|[^{_WS}>]*+))?+"""
)


def _any_case(word: str) -> str:
    """`word` in ASCII letters of either case, as classes: unlike re.I, a
    class lets the engine skip a branch on its first character, and `ſ`
    (which re.I matches to `s`) does not make `<ſcript>` a script."""
    return "".join(f"[{c}{c.upper()}]" for c in word)


_S = _any_case("script")
_END = rf"/{_S}[{_WS}/>]"
_DOUBLE = rf"<{_S}[{_WS}/>](?:[^<-]++|-(?!->)|<(?!{_END}))*+(?:<{_END})?"
_ESCAPED = rf"<!--(?:-*+>|(?:[^<-]++|-(?!->)|<(?!{_END}|{_S}[{_WS}/>])|{_DOUBLE})*+(?:-->)?)"
_SCRIPT = rf"(?:[^<]++|<(?!{_END}|!--)|{_ESCAPED})*+"
_TEXT_ONLY = ("style", "xmp", "iframe", "noembed", "noframes", "title", "textarea")


@functools.lru_cache(maxsize=4)
def _tokens(limit: int) -> re.Pattern[str]:
    """Every token of a page but a start tag of more than `limit` attributes:
    one match, in C, that stops at the first such tag. Each token is read
    possessively (never backtracked into), so the match takes linear time."""
    attributes = rf"(?:{_ATTRIBUTE}){{0,{limit}}}+(?!{_ATTRIBUTE})"
    opened = rf"{attributes}(?:[{_WS}/]*[{_WS}])?>"  # not closed in itself
    text_only = "|".join(
        rf"{_any_case(n)}(?=[{_WS}/>]){opened}(?:[^<]++|<(?!/{_any_case(n)}[{_WS}/>]))*+"
        for n in _TEXT_ONLY
    )
    return re.compile(
        rf"""[^<]*+(?:<(?:
           /(?:[a-zA-Z][^{_WS}/>]*+(?:{_ATTRIBUTE})*+[{_WS}/]*+>?|[^>]*+>?)
          |!(?:--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>)?)|[^>]*+>?)
          |\?[^>]*+>?
          |{_S}(?=[{_WS}/>]){opened}{_SCRIPT}
          |{text_only}
          |{_any_case("plaintext")}(?=[{_WS}/>]){opened}.*+
          |[a-zA-Z][^{_WS}/>]*+{attributes}[{_WS}/]*+>?
          |(?![a-zA-Z/!?])
        )[^<]*+)*+""",
        re.S | re.X,
    )


_NAMED = re.compile(rf"<[^{_WS}/>]*+")
_ONE_ATTRIBUTE = re.compile(_ATTRIBUTE)
_ALL = re.compile(rf"(?:{_ATTRIBUTE})*+")


def crowded_tag(html: str, limit: int = MAX_ATTRIBUTES) -> int:
    """The number of attributes of the first start tag that has more than
    `limit`, else 0. `html` is what libxml2 is given (parsing.read drops the
    characters XML forbids and makes trafilatura's repairs first). The whole
    page is read as libxml2 reads it: a cheaper probe for tags without a '>'
    was bypassed by a '>' in a quoted value, or by a `<script` that was not
    one (CHANGELOG, 2026-12-06 evening). It costs 0.1-0.15 ms a benchmark
    page, 0.17-1.4 ms a saved real page."""
    at = _reach(_tokens(limit), html, 0)
    if at == len(html):
        return 0
    named = _reach(_NAMED, html, at)  # the tokens stop only at a '<'
    return sum(1 for _ in _ONE_ATTRIBUTE.finditer(html, named, _reach(_ALL, html, named)))


def _reach(pattern: re.Pattern[str], html: str, at: int) -> int:
    """Where `pattern`, which matches nothing too, stops reading from `at`."""
    m = pattern.match(html, at)
    return at if m is None else m.end()
