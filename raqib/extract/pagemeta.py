"""What a page says about itself, read from its parsed tree (lxml only).

Dates from <meta> and JSON-LD, the byline from JSON-LD, the canonical link,
the language, visible update/correction lines, and the blocks that are nothing
but a link (in-body "read also" promos). Read-only: extract.py hands the same
tree to trafilatura afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from raqib.extract import jsonld, time_tags
from raqib.extract.classnames import searcher
from raqib.extract.furniture import furniture_elements, heads_the_article, text_of
from raqib.extract.notices import BLOCK_TAGS, notices
from raqib.normalize.arabic import canonical_line

_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:»«·]+\s+")
_BY_PREFIX = re.compile(r"^\s*(?:بقلم|كتب|كتبت|إعداد|تقرير|by)\s*[:：]?\s*", re.IGNORECASE)
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
AUTHOR_MARK = re.compile(r"author|byline|writer|kateb", re.I)
author_mark = searcher(AUTHOR_MARK)

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "blogposting",
    "liveblogposting",
    "webpage",
}

_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "lastmod",
    "dcterms.modified",
    "dc.date.modified",
)

_SKIP_TAGS = {
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


@dataclass
class PageMeta:
    published: str | None = None
    modified: str | None = None
    byline: str | None = None
    headline: str | None = None
    canonical_url: str | None = None
    amp_url: str | None = None
    language: str | None = None
    notices: list[str] = field(default_factory=list)
    link_only_blocks: set[str] = field(default_factory=set)
    link_texts: set[str] = field(default_factory=set)  # every link's text: menus, lists
    furniture_texts: set[str] = field(default_factory=set)  # short, in menus, sidebars
    og_title: str | None = None
    twitter_title: str | None = None
    title_tag: str | None = None
    h1s: list[str] = field(default_factory=list)  # outside menus, comments and sidebars
    author_texts: list[str] = field(default_factory=list)  # bylines outside furniture
    furniture: set[Any] = field(default_factory=set, repr=False)  # the elements themselves

    def title(self) -> str:
        """The headline: a single visible <h1>, else og:title, twitter:title,
        JSON-LD, or <title> without the site's name. The order is fixed and
        the fragile sources come last (JSON-LD fails to parse now and then),
        so that losing one source does not flip the headline."""
        if len(self.h1s) == 1 and self.h1s[0]:
            return self.h1s[0]
        for candidate in (self.og_title, self.twitter_title, self.headline):
            if candidate and candidate.strip():
                return " ".join(candidate.split())
        if self.title_tag:
            parts = [p.strip() for p in _TITLE_SEPARATORS.split(self.title_tag) if p.strip()]
            return max(parts, key=len) if parts else self.title_tag.strip()
        return self.h1s[0] if self.h1s else ""

    def author(self) -> str | None:
        """The byline: JSON-LD or <meta>, else an author element of the page."""
        if self.byline:
            return self.byline
        for text in self.author_texts:
            name = _BY_PREFIX.sub("", text).strip(" :-–—|")
            if (
                0 < len(name) <= 80
                and len(name.split()) <= 8
                and not any(ch.isdigit() for ch in name)
            ):
                return name
        return None

    og_type: str | None = None
    ld_types: set[str] = field(default_factory=set)  # every JSON-LD @type on the page

    def kind(self) -> str | None:
        """What the page says it is: "article", "live", "video", "gallery",
        "section", "profile" — or None when it does not say."""
        if "liveblogposting" in self.ld_types:
            return "live"
        if self.ld_types & _NEWS_TYPES or self.og_type == "article":
            return "article"
        for types, kind in _PAGE_KINDS:
            if self.ld_types & types:
                return kind
        og = (self.og_type or "").split(".")[0]
        return {"video": "video", "profile": "profile"}.get(og)


# JSON-LD types that make a page something other than an article (when no
# article type is there too: articles often embed a VideoObject).
_NEWS_TYPES = ARTICLE_TYPES - {"webpage", "liveblogposting"}
_PAGE_KINDS = (
    ({"videoobject", "videogallery"}, "video"),
    ({"imagegallery", "mediagallery"}, "gallery"),
    ({"collectionpage", "searchresultspage"}, "section"),
    ({"profilepage"}, "profile"),
)


def read(tree: Any, links: tuple[set[str], set[str]] | None = None) -> PageMeta:
    """The page's metadata; `links`: its link_texts, if already known."""
    meta = PageMeta()
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    meta.language = (root.get("lang") or root.get("xml:lang") or "").strip() or None
    _read_meta_tags(root, meta)
    _read_links(root, meta)
    _read_jsonld(root, meta)
    modified, published = time_tags.dates(root)
    meta.modified = meta.modified or modified
    meta.published = meta.published or published
    body = root.find("body")
    meta.furniture = furniture_elements(body) if body is not None else set()
    meta.notices, meta.furniture_texts = _notices(root, meta.furniture)
    _read_visible_heads(root, meta)
    meta.link_only_blocks, meta.link_texts = links if links is not None else link_texts(root)
    return meta


def _date(value: str) -> str | None:
    """A date as the page wrote it, stored as is: bounded, and without what no
    database column holds (a NUL, a lone surrogate from a JSON-LD escape)."""
    kept = _UNSTORABLE.sub("", value).strip()[:64]
    return kept or None


def _read_meta_tags(root: Any, meta: PageMeta) -> None:
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = (el.get("content") or "").strip()
        if not key or not content:
            continue
        if key in _PUBLISHED_META and not meta.published:
            meta.published = _date(content)
        elif key in _MODIFIED_META and not meta.modified:
            meta.modified = _date(content)
        elif key == "og:type":
            meta.og_type = content.lower()[:32]
        elif key == "og:title" and not meta.og_title:
            meta.og_title = content[:500]
        elif key == "twitter:title" and not meta.twitter_title:
            meta.twitter_title = content[:500]
        elif (
            key in ("author", "article:author", "dc.creator")
            and not meta.byline
            and not content.startswith("http")
        ):
            meta.byline = content[:200]


def _read_jsonld(root: Any, meta: PageMeta) -> None:
    own: list[dict[str, Any]] = []  # article objects about this page
    for obj in jsonld.objects_in(root):
        if len(meta.ld_types) < 50:
            meta.ld_types |= {x[:40] for x in jsonld.types(obj)}
        if jsonld.types(obj) & ARTICLE_TYPES and not jsonld.another_page(obj, meta.canonical_url):
            own.append(obj)
    # The first wins each field, an article's before a bare WebPage's: a related
    # story's, after it, would be read as this one's. JSON-LD is what publishers'
    # CMSs keep current; it wins over <meta>.
    own.sort(key=lambda o: jsonld.types(o) & ARTICLE_TYPES == {"webpage"})
    for obj in reversed(own[:20]):
        if isinstance(obj.get("dateModified"), str):
            meta.modified = _date(obj["dateModified"])
        if isinstance(obj.get("datePublished"), str):
            meta.published = _date(obj["datePublished"])
        authors = jsonld.names(obj.get("author"))
        if authors:
            meta.byline = "، ".join(a.strip() for a in authors if a.strip())[:200] or meta.byline
        if isinstance(obj.get("headline"), str):
            meta.headline = obj["headline"][:500]


def _read_visible_heads(root: Any, meta: PageMeta) -> None:
    """<title>, the visible <h1>s and author elements, furniture left out."""
    title = root.find(".//title")
    if title is not None and title.text:
        meta.title_tag = canonical_line(title.text)[:500]
    body = root.find("body")
    if body is None:
        return
    for h1 in body.iter("h1"):
        if h1 not in meta.furniture or heads_the_article(h1):
            text = canonical_line(h1.text_content())
            if text:
                meta.h1s.append(text[:500])
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in _SKIP_TAGS or el in meta.furniture:
            continue
        marks = (
            f"{el.get('class', '')} {el.get('id', '')} {el.get('itemprop', '')} {el.get('rel', '')}"
        )
        if author_mark(marks):
            text = canonical_line(el.text_content())
            if text:
                meta.author_texts.append(text[:200])


def _read_links(root: Any, meta: PageMeta) -> None:
    for el in root.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        href = (el.get("href") or "").strip()
        if not href or len(href) > 2048:
            continue
        if "canonical" in rel and not meta.canonical_url:
            meta.canonical_url = href
        elif "amphtml" in rel and not meta.amp_url:
            meta.amp_url = href


def _notices(root: Any, furniture_els: set[Any] | None = None) -> tuple[list[str], set[str]]:
    """Short visible lines that start like an update or correction notice;
    and the short texts that sit in page furniture (for checking bylines)."""
    furniture: set[str] = set()
    body = root.find("body")
    if body is None:
        return [], furniture
    for el in furniture_els if furniture_els is not None else furniture_elements(body):
        text = " ".join((el.text or "").split())
        if 0 < len(text) <= 80:
            furniture.add(text)
    return notices(root), furniture


# A "read also" cue opening a promo line (extract.article drops such lines).
READ_ALSO = re.compile(
    r"^\s*(?:اقرأ|إقرأ|اقرا|طالع|شاهد|تابع|اطلع)\s+(?:أيضا|أيضاً|أيضًا|ايضا|ايضاً|المزيد)"
    r"|^\s*للمزيد\b|^\s*(?:read|see)\s+(?:also|more)\b|^\s*also\s+read\b|^\s*related\s*:",
    re.IGNORECASE,
)


def link_texts(root: Any) -> tuple[set[str], set[str]]:
    """(texts of blocks, or of a block's lines (<br>), whose whole text is one
    link — promos, not prose; the texts of all links)."""
    only: set[str] = set()
    texts: set[str] = set()
    body = root.find("body")
    if body is None:
        return only, texts
    for a in body.iter("a"):
        link_text = " ".join(text_of(a).split())
        if not link_text:
            continue
        texts.add(link_text)
        parent = a.getparent()
        if parent is None or parent.tag not in BLOCK_TAGS or len(link_text.split()) < 3:
            continue
        if _promo_line(a) or " ".join(parent.text_content().split()) == link_text:
            only.add(canonical_line(link_text))
    return only, texts


def _promo_line(a: Any) -> bool:
    """Whether the link is a line of its own among its block's lines (<br>)
    under a "read also" label, alone or with other such links between them:
    "اقرأ أيضا:<br><a>...</a>" (akhbarelyom, youm7). Alone among sentences,
    it is the article's (a statement's title, linked)."""
    at = a
    while True:
        before, after = at.getprevious(), at.getnext()
        if (at.tail or "").strip() or (after is not None and after.tag != "br"):
            return False  # words beside it: a sentence
        if before is None or before.tag != "br" or (before.tail or "").strip():
            return False  # the block's first line, or words before it on its line
        items = []
        sib = before.getprevious()
        while sib is not None and sib.tag != "br":
            items.append(sib)
            sib = sib.getprevious()
        lead = (sib.tail if sib is not None else at.getparent().text) or ""
        if len(items) == 1 and items[0].tag == "a" and not lead.strip():
            at = items[0]  # the line above is another link: a list under one label
            continue
        line = lead + "".join(text_of(i) + (i.tail or "") for i in reversed(items))
        return READ_ALSO.match(line) is not None
