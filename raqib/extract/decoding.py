"""A stored body as text, whatever charset it names."""

from __future__ import annotations

from w3lib.encoding import html_to_unicode


def decoded(raw: bytes) -> str:
    """The body read by its BOM, its <meta> charset or by sniffing, as w3lib
    reads it; a charset that is no text encoding (`hex`, `idna`) raises there,
    and the body is then read as UTF-8, its unreadable bytes replaced. A
    stored page the fetch could read must not stop a report or a discovery."""
    try:
        return html_to_unicode(None, raw)[1]
    except (LookupError, UnicodeError, ValueError):
        return raw.decode("utf-8", errors="replace")
