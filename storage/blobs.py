"""Raw bodies: hashed, zstd-compressed, stored once per hash."""

from __future__ import annotations

import hashlib

import zstandard

LEVEL = 10  # raw HTML compresses 5-10x at this level for a few ms per page


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=LEVEL).compress(data)


def decompress(data: bytes, max_size: int = 256 * 1024 * 1024) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data, max_output_size=max_size)
