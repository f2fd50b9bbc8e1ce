"""Raw bodies: hashed, zstd-compressed, stored once per hash.

A later version of an article is compressed with the first version's body
as a zstd dictionary: the two pages share most of their bytes (template,
scripts, most of the text), so the delta is a few kilobytes where the page
alone would be tens.
"""

from __future__ import annotations

import hashlib

import zstandard

LEVEL = 6  # 5-6x on raw news HTML at under a millisecond per page
MAX_SIZE = 256 * 1024 * 1024


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dict(base: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(base, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress(data: bytes, base: bytes | None = None) -> bytes:
    if base is None:
        return zstandard.ZstdCompressor(level=LEVEL).compress(data)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=_dict(base)).compress(data)


def decompress(data: bytes, base: bytes | None = None, max_size: int = MAX_SIZE) -> bytes:
    if base is None:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=max_size)
    return zstandard.ZstdDecompressor(dict_data=_dict(base)).decompress(
        data, max_output_size=max_size
    )
