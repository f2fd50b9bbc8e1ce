"""What a spider reads of a stranger's response: a header, bounded and
without control characters (PostgreSQL refuses a NUL in text, and an ETag is
sent back as it was kept), and the text, whatever charset the page names."""

from __future__ import annotations

import re

from scrapy.http import Response, TextResponse

from raqib.extract.decoding import decoded_as

# C0, DEL, and C1: a header read as latin-1 turns bytes 0x80-0x9f into C1
# controls, which a terminal takes as escape sequences (CSI, OSC).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def header(response: Response, name: str | bytes, limit: int = 256) -> str | None:
    value = response.headers.get(name)
    if value is None:
        return None
    return _CONTROL.sub(" ", value.decode("latin-1")).strip()[:limit] or None


def text(response: TextResponse) -> tuple[str, str]:
    """(text, encoding). Scrapy decodes by the BOM, the HTTP charset, the
    page's <meta> and sniffing; a header charset that is no text encoding
    (`undefined`, `hex`) raises there, and the body is then read as if the
    header named none (its <meta>, then sniffing, then UTF-8 whose bytes it
    cannot read the page's checks see: `undecodable bytes …`)."""
    try:
        return response.text, response.encoding
    except (LookupError, UnicodeError, ValueError):
        return decoded_as(response.body)
