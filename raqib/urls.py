"""URL identity: one article, one watch.

w3lib makes the URL safe (IDN → punycode, percent-encoding) and canonical
(sorted query, no fragment); courlan's tracker list removes utm_*, fbclid,
gclid and their kin. Raqib adds only what neither does: refuse what is not a
web address, strip default ports, and keep credentials out of storage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


# A path of words alone (/politics/, /news/world/, /سياسة/): a section. An
# article's address has its slug's hyphens, a number, a file name or a query.
_WORDS_ONLY = re.compile(r"[^\W\d_]{1,30}")


def words_only(url: str) -> bool:
    """Whether `url`'s path is one to three words and nothing else (a section's)."""
    parts = urlsplit(url)
    path = [unquote(p) for p in parts.path.split("/") if p]
    return not parts.query and 0 < len(path) <= 3 and all(map(_WORDS_ONLY.fullmatch, path))


class BadURL(ValueError):
    """A URL Raqib will not watch; the message is one line, safe to print."""


def redact(url: str) -> str:
    """The URL with any user:password removed, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.username is None and parts.password is None:
        return url if len(url) <= 200 else url[:200] + "…"
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def normalize(url: str, *, allow_credentials: bool = False) -> str:
    """The canonical form of a web address, or BadURL saying why not."""
    raw = url.strip()
    if not raw:
        raise BadURL("empty URL")
    if len(raw) > MAX_URL_LENGTH:
        raise BadURL(f"URL is {len(raw)} characters long; the limit is {MAX_URL_LENGTH}")
    if any(ord(ch) < 32 for ch in raw):
        raise BadURL("URL contains control characters")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise BadURL(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        if raw.startswith(("/", ".", "~")):
            raise BadURL(f"{raw[:80]!r} is a file path; Raqib watches http(s) URLs")
        raise BadURL(f"{redact(raw)!r} has no scheme; write it as https://…")
    if scheme not in _DEFAULT_PORTS:
        raise BadURL(f"unsupported scheme {scheme!r}: only http and https can be watched")
    if parts.username is not None or parts.password is not None:
        if not allow_credentials:
            raise BadURL(f"URL carries credentials ({redact(raw)}); Raqib will not store them")
        parts = parts._replace(netloc=parts.hostname or "")
    try:
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"malformed host or port: {exc}") from None
    if not host:
        raise BadURL(f"{redact(raw)!r} has no host")
    if port == 0:
        raise BadURL("port 0 is not a port a web server can listen on")
    if " " in host or host.startswith(".") or ".." in host:
        raise BadURL(f"malformed host {host!r}")
    shown = f"[{host}]" if ":" in host else host  # IPv6 literals keep their brackets
    netloc = shown + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")
    parts = SplitResult(scheme, netloc, parts.path or "/", parts.query, "")
    try:
        safe = safe_url_string(urlunsplit(parts))
    except (ValueError, UnicodeError) as exc:
        raise BadURL(f"malformed host {host!r}: {exc}") from None
    split = urlsplit(safe)
    if split.query:
        from courlan.clean import clean_query  # imported on first use: courlan pulls in urllib3

        query = clean_query(split.query)
    else:
        query = ""
    result = canonicalize_url(urlunsplit(split._replace(query=query)), keep_fragments=False)
    if len(result) > MAX_URL_LENGTH:
        raise BadURL(f"URL is longer than {MAX_URL_LENGTH} characters once encoded")
    return result


def joined(base: str, href: str) -> str | None:
    """`href` read against `base`; None when urllib cannot take the result
    apart (`http://[x/` raises ValueError in urljoin, or later in .hostname):
    one such link on a stranger's page must cost that link only."""
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
        _ = (parts.hostname, parts.port)
    except ValueError:
        return None
    return url


def host(url: str) -> str:
    """The host a request to `url` goes to, as Scrapy keys its per-site slots
    (lower case, no port): what politeness is counted per. "" if none."""
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""


def same_site(a: str, b: str) -> bool:
    ha, hb = urlsplit(a).hostname or "", urlsplit(b).hostname or ""
    strip = lambda h: h[4:] if h.startswith("www.") else h  # noqa: E731
    return strip(ha) == strip(hb)


def same_owner(a: str, b: str) -> bool:
    """Both on one registrable domain (amp.example.co.uk and www.example.co.uk),
    by the public suffix list: what one publisher's DNS answers for."""
    if same_site(a, b):
        return True
    from tld import get_fld  # its list loads in about 70 ms: only for such pairs

    fa, fb = get_fld(a, fail_silently=True), get_fld(b, fail_silently=True)
    return fa is not None and fa == fb


def is_home(url: str) -> bool:
    return urlsplit(url).path in ("", "/")


def identity(
    url: str,
    *,
    final: str | None = None,
    redirects: Sequence[str] = (),
    canonical: str | None = None,
    amp: str | None = None,
) -> tuple[str, list[str]]:
    """One article, one watch: the address to know a page by, and the others
    it answered to (redirects, its AMP page), all normalised.

    The page's canonical link is trusted when it names an article on the same
    site; a canonical link to the home page or to another site is a CMS
    mistake or a trick, and is ignored. Its AMP link is an alias only on the
    publisher's own domain: one to another site would make that site's article
    "already watched" as this page. No home page is ever an alias.
    """
    base = final or url

    def norm(u: str | None) -> str | None:
        if not u:
            return None
        try:
            return normalize(urljoin(base, u), allow_credentials=True)
        except ValueError:  # BadURL, and urljoin's own ("Invalid IPv6 URL": http://[x/)
            return None

    served = [u for u in dict.fromkeys(norm(x) for x in (url, *redirects, final)) if u]
    if not served:
        raise BadURL(f"{redact(url)!r} is not a web address")
    # Nor one to a section's address from an article's (a CMS whose every article
    # names /news/): each would be watched as the section, and be one watch.
    articled = not words_only(served[-1])
    canon = norm(canonical)
    trusted = (
        canon is not None
        and not is_home(canon)
        and same_site(canon, served[-1])
        and not (articled and words_only(canon))
    )
    primary = canon if trusted and canon else served[-1]
    amp_url = norm(amp)
    if amp_url and (not same_owner(amp_url, served[-1]) or (articled and words_only(amp_url))):
        amp_url = None
    others = [*served, amp_url]
    aliases = [u for u in dict.fromkeys(others) if u and u != primary and not is_home(u)]
    return primary, aliases
