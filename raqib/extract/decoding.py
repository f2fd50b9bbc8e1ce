"""A body as text, whatever charset it names."""

from __future__ import annotations

from w3lib.encoding import html_to_unicode


def decoded_as(raw: bytes) -> tuple[str, str]:
    """(text, encoding): the body read by its BOM, its <meta> charset or by
    sniffing, as w3lib reads it. A charset that is no text encoding (`hex`,
    `idna`) raises there, and the body is then read as UTF-8, its unreadable
    bytes replaced; one that decodes to what UTF-8 cannot write
    (`unicode_escape` makes lone surrogates) has those replaced too. A page a
    stranger serves must not stop a pass, a report or a discovery."""
    try:
        encoding, text = html_to_unicode(None, raw)
    except (LookupError, UnicodeError, ValueError):
        return raw.decode("utf-8", errors="replace"), "utf-8"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text, encoding


def decoded(raw: bytes) -> str:
    return decoded_as(raw)[0]
