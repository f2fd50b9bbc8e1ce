"""Parse discovery sources: RSS 2.0 and Atom (feedparser, imported on the
first feed parsed: a pass whose feeds are all unchanged never needs it),
sitemaps, news sitemaps and sitemap indexes (lxml, with entities and network
off)."""

from __future__ import annotations

import codecs
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote_plus

from lxml import etree

from raqib.normalize.arabic import canonical_line
from raqib.urls import joined

MAX_ENTRIES = 1000
MAX_UNZIPPED = 8 * 1024 * 1024  # a gzip listing unpacked: fetch.max_size_mb's default
# feedparser's time grows with the markup, escaped or not (it cleans the HTML
# inside entries too): about 30 µs a tag, on the crawl's own thread. A
# stranger's 8 MB feed of nested tags took 153 s; 100,000 tags take about 3,
# and they are counted in milliseconds.
# A feed of 1,000 entries with short HTML summaries holds about 12,000.
MAX_FEED_TAGS = 100_000

MAX_SITEMAP_DEPTH = 2
# Child sitemaps: at most 20 of one index, and 40 in one read at every depth
# together (with 20 per index alone, an index of indexes made 1 + 20 + 400
# requests and listed 400,000 pages; with 20 in all, 20 child indexes left no
# room for the sitemaps they list). The current come first, then the undated
# as listed, then the older, newest first (parse_sitemap).
MAX_CHILD_SITEMAPS = 20
CURRENT_SITEMAP = 7 * 86400  # seconds: a child dated this near the index's newest is current
MAX_SITEMAPS_PER_READ = 40


class SitemapBudget:
    """The child sitemaps each source's read may still follow (one per crawl)."""

    def __init__(self) -> None:
        self.left: dict[object, int] = {}

    def follow(self, source: object, children: list[str], depth: int) -> list[str]:
        """Those of `children`, listed by a sitemap `depth` levels below the
        source's own, that the read follows."""
        if depth >= MAX_SITEMAP_DEPTH:
            return []
        left = self.left.setdefault(source, MAX_SITEMAPS_PER_READ)
        taken = children[: min(left, MAX_CHILD_SITEMAPS)]
        self.left[source] = left - len(taken)
        return taken


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"

_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, recover=True, remove_comments=True
)


@dataclass
class Entry:
    url: str
    title: str | None = None
    summary: str | None = None
    published: str | None = None


@dataclass
class Parsed:
    kind: str  # rss | atom | sitemap | sitemapindex | unknown
    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # sitemap index → child sitemaps
    error: str | None = None


def detect_kind(url: str, declared: str | None = None) -> str:
    if declared and declared != "auto":
        return declared
    return "search" if "{query}" in url else "auto"


def search_url(template: str, terms: list[str]) -> str:
    """Fill a search-feed template's {query} with the story's key terms."""
    return template.replace("{query}", quote_plus(" ".join(terms)))


def _clean(value: object, limit: int = 1000) -> str | None:
    """A feed's text as stored: one line, no control characters (PostgreSQL
    refuses a NUL, and feedparser turns &#0; into one), no lone surrogates
    (no database encodes them), bounded."""
    if not isinstance(value, str):
        return None
    line = canonical_line(value).encode("utf-8", errors="replace").decode("utf-8")
    return line[:limit] or None


def parse(
    body: bytes, base_url: str, content_type: str | None = None, *, max_size: int = MAX_UNZIPPED
) -> Parsed:
    """Whatever the source turned out to be: a sitemap (index) or a feed;
    `content_type`, the response's header, may name the feed's charset. A
    gzip file (sitemap.xml.gz, sent as itself rather than with a
    Content-Encoding) is read unpacked, up to `max_size` bytes."""
    if body[:2] == b"\x1f\x8b":
        unpacked = _gunzipped(body, max_size)
        if unpacked is None:
            return Parsed(
                "unknown", error=f"a gzip file past {max_size:,} bytes unpacked, or broken"
            )
        body = unpacked
    head = body[:2000].lstrip().lower()
    if b"<urlset" in head or b"<sitemapindex" in head:
        return parse_sitemap(body, base_url)
    return parse_feed(body, base_url, content_type)


def _gunzipped(body: bytes, limit: int) -> bytes | None:
    """The gzip file's content, or None past `limit` (a bomb: never unpacked
    further than that) or broken."""
    unpacker = zlib.decompressobj(wbits=31)
    try:
        out = unpacker.decompress(body, limit + 1)
    except zlib.error:
        return None
    return out if len(out) <= limit else None


_DECLARED = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_ENTITY = re.compile(r"""<!ENTITY\s+([^\s%>]+)\s+(["'])(.*?)\2""", re.S)
_REF = re.compile(r"&([^;\s&<]{1,64});")


def _decoded(body: bytes) -> str:
    """The feed's text as feedparser will read it: by its byte order mark,
    EBCDIC's first bytes, or the encoding it declares; else UTF-8."""
    for mark, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
        (b"<\x00?\x00", "utf-16-le"), (b"\x00<\x00?", "utf-16-be"), (b"\x4c\x6f\xa7\x94", "cp037"),
    ):  # fmt: skip
        if body.startswith(mark):
            return body.decode(encoding, errors="replace")
    declared = _DECLARED.search(body[:2048])
    try:
        encoding = codecs.lookup(declared.group(1).decode()).name if declared else "utf-8"
    except LookupError:
        encoding = "utf-8"
    return body.decode(encoding, errors="replace")


def _tags(body: bytes) -> int:
    """How much markup feedparser will meet: every tag, and every entity
    reference as one, or as much as its internal declaration expands to
    (however it is spelt, in whatever encoding the feed is in)."""
    text = _decoded(body)
    declared = {m.group(1): m.group(3) for m in _ENTITY.finditer(text)}
    sizes: dict[str, int] = {}

    def size(name: str, depth: int = 0) -> int:
        if name not in declared:
            return 1
        if depth > 8:  # entities within entities (or a loop): more than any feed needs
            return MAX_FEED_TAGS + 1
        if name not in sizes:
            value = declared[name]
            sizes[name] = (
                1 + value.count("<") + sum(size(r, depth + 1) for r in _REF.findall(value))
            )
        return sizes[name]

    return text.count("<") + sum(size(name) for name in _REF.findall(text))


def parse_feed(body: bytes, base_url: str, content_type: str | None = None) -> Parsed:
    tags = _tags(body)
    if tags > MAX_FEED_TAGS:
        return Parsed(
            "unknown",
            error=f"feed too large to read: {tags:,} tags (the limit is {MAX_FEED_TAGS:,})",
        )
    import feedparser

    # A stream, never the bytes: feedparser opens a string that names a file
    # (a body of "/etc/passwd" or "/dev/zero") as that file, on this machine.
    headers = {"content-location": base_url}
    if content_type:  # a charset only there (windows-1256, no XML declaration): read as it says
        # but for a body in UTF-8 (a header that says otherwise read it as mojibake):
        # Arabic in windows-1256 is never valid UTF-8.
        headers["content-type"] = content_type.split(";")[0] if _utf8(body) else content_type
    try:
        feed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    except Exception as exc:  # its loose parser raises on some malformed feeds (&#xD800;)
        return Parsed("unknown", error=f"unreadable feed ({type(exc).__name__})")
    version = feed.get("version") or ""
    if not feed.entries and (feed.get("bozo") and not version):
        reason = feed.get("bozo_exception")
        return Parsed(
            "unknown",
            error=f"not a feed or sitemap ({type(reason).__name__ if reason else 'empty'})",
        )
    kind = "atom" if version.startswith("atom") else "rss"
    entries = []
    for e in feed.entries[:MAX_ENTRIES]:
        link = e.get("link") or next(
            (lk.get("href") for lk in e.get("links", []) if lk.get("href")), None
        )
        if not link or (url := joined(base_url, link)) is None:
            continue
        entries.append(
            Entry(
                url=url,
                title=_clean(e.get("title")),
                summary=e.get("summary") or None,  # never stored
                published=_clean(e.get("published") or e.get("updated"), 64),
            )
        )
    return Parsed(kind, entries)


def parse_sitemap(body: bytes, base_url: str) -> Parsed:
    try:
        root = etree.fromstring(body, parser=_XML)
    except etree.XMLSyntaxError as exc:
        return Parsed("unknown", error=f"unreadable sitemap: {exc}")
    if root is None:
        return Parsed("unknown", error="empty sitemap")
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        kids = []
        for at, loc in enumerate(root.iter(f"{{{SITEMAP_NS}}}loc", "loc")):
            if not (loc.text or "").strip() or not (url := joined(base_url, loc.text.strip())):
                continue
            parent = loc.getparent()
            when = dated(parent.findtext(f"{{{SITEMAP_NS}}}lastmod") or parent.findtext("lastmod"))
            kids.append((when.timestamp() if when else None, at, url))
        # A read follows 40: the current ones first (dated within a week of the
        # newest), then the undated as listed (a news sitemap often is; so are
        # sections'), then the older, newest first. An archive lists its oldest
        # first, and its budget went to them, never reaching this month's.
        # Sorted before the cap, which would otherwise keep the oldest.
        newest = max((t for t, *_ in kids if t is not None), default=0.0)

        def rank(kid: tuple[float | None, int, str]) -> tuple[int, float, int]:
            t, at, _url = kid
            if t is None:
                return (1, 0.0, at)
            return (0 if t >= newest - CURRENT_SITEMAP else 2, -t, at)

        return Parsed(
            "sitemapindex", children=[u for *_, u in sorted(kids, key=rank)[:MAX_ENTRIES]]
        )
    entries = []
    for url_el in root.iter(f"{{{SITEMAP_NS}}}url", "url"):
        loc = url_el.findtext(f"{{{SITEMAP_NS}}}loc") or url_el.findtext("loc")
        if not loc or not loc.strip() or (url := joined(base_url, loc.strip())) is None:
            continue
        title = url_el.findtext(f".//{{{NEWS_NS}}}title")
        published = url_el.findtext(f".//{{{NEWS_NS}}}publication_date") or url_el.findtext(
            f"{{{SITEMAP_NS}}}lastmod"
        )
        entries.append(Entry(url, title=_clean(title), published=_clean(published, 64)))
        if len(entries) >= MAX_ENTRIES:
            break
    return Parsed("sitemap", entries)


EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)  # before it, a CMS's zero date says nothing


def dated(value: str | None) -> datetime | None:
    """A listing's date, in UTC: ISO 8601 (sitemaps) or RFC 822 (feeds); None
    when absent, unreadable, or before 1995."""
    if not value or not (value := value.strip()):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC) if when >= EARLIEST else None
    except OverflowError:  # year 1 with an offset east of UTC
        return None


def _utf8(body: bytes) -> bool:
    """Whether the body is UTF-8 with something past ASCII in it."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
