"""Links inside a watched article: the reporter's own pointers to related
coverage (inline links and in-body "read also" promos), same-site or not."""

from __future__ import annotations

from urllib.parse import urlsplit

import lxml.html

from raqib.extract.parsing import document
from raqib.normalize.arabic import canonical_line
from raqib.urls import joined

MAX_LINKS = 200
_SKIP_HOSTS = (
    "facebook.com",
    "twitter.com",
    "x.com",
    "t.me",
    "wa.me",
    "whatsapp.com",
    "linkedin.com",
    "pinterest.com",
    "instagram.com",
    "youtube.com",
)


def _container(tree: lxml.html.HtmlElement, paragraphs: list[str]) -> lxml.html.HtmlElement | None:
    """The smallest element holding every article paragraph found in the page."""
    probes = [canonical_line(p)[:40] for p in paragraphs if len(p) > 40][:30]
    holders = []
    for el in tree.iter("p", "div", "li", "td", "span", "blockquote"):
        text = canonical_line(el.text_content())
        if any(text.startswith(p) for p in probes):
            holders.append(el)
    if not holders:
        return None
    # Keep the innermost holders: a wrapper's text also starts like its first paragraph.
    held = set(holders)
    wrappers = {anc for h in holders for anc in h.iterancestors() if anc in held}
    holders = [h for h in holders if h not in wrappers]
    ancestors = [list(h.iterancestors()) for h in holders]
    common = [a for a in ancestors[0] if all(a in anc for anc in ancestors[1:])]
    return common[0] if common else None


def article_links(html: str, base_url: str, text: str) -> list[tuple[str, str]]:
    """(url, anchor text) of the links inside the article body."""
    if (tree := document(html)) is None:  # refused, or unparseable
        return []
    container = _container(tree, [p for p in text.split("\n") if p])
    if container is None:
        return []
    page = urlsplit(base_url)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for a in container.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "whatsapp:")):
            continue
        if (url := joined(base_url, href)) is None:
            continue
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or any(
            host == h or host.endswith("." + h) for h in _SKIP_HOSTS
        ):
            continue
        if (parts.netloc, parts.path) == (page.netloc, page.path) or url in seen:
            continue
        seen.add(url)
        out.append((url, canonical_line(a.text_content())))
        if len(out) >= MAX_LINKS:
            break
    return out
