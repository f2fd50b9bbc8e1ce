"""JSON-LD as pages hold it (read by extract.pagemeta): its objects, bounded,
their types and names, and whether an article object is about another page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

MAX_JSONLD_BYTES = 200_000
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def objects_in(root: Any) -> Iterator[dict[str, Any]]:
    """Every object of the page's JSON-LD scripts, @graph's included."""
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        if not raw or len(raw) > MAX_JSONLD_BYTES:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # "[" nested 100,000 deep: a stranger's
            continue
        if _SURROGATE_ESCAPE.search(raw):  # "\ud800" alone: no text, digest or column holds it
            data = _whole(data)
        yield from _jsonld_objects(data)


def _whole(data: Any, depth: int = 0) -> Any:
    """JSON-LD's strings with their lone surrogates replaced (bounded as
    _jsonld_objects reads it)."""
    if isinstance(data, str):
        return data.encode("utf-8", errors="replace").decode("utf-8")
    if depth > 8:
        return None
    if isinstance(data, list):
        return [_whole(x, depth + 1) for x in data]
    if isinstance(data, dict):
        return {_whole(k, depth + 1): _whole(v, depth + 1) for k, v in data.items()}
    return data


def _jsonld_objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _jsonld_objects(graph, depth + 1)


def types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return {t.lower()}
    if isinstance(t, list):
        return {x.lower() for x in t if isinstance(x, str)}
    return set()


def names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for v in value[:10] for n in names(v)]
    return []


def another_page(obj: dict[str, Any], canonical: str | None) -> bool:
    """Whether an article object names a page other than the canonical one (a
    related story's): two web addresses clearly apart only, by path, or by
    query on one path (article.php?id=2). A bare id, one path inside the other,
    a query on one side only, an AMP path, another encoding or case: this page."""
    mine = _address(canonical or "")
    named = [obj.get("url"), obj.get("mainEntityOfPage")]
    urls = [u.get("@id") or u.get("url") if isinstance(u, dict) else u for u in named]
    theirs = [a for u in urls if isinstance(u, str) and (a := _address(u, canonical or ""))]
    return mine is not None and bool(theirs) and all(_apart(mine, a) for a in theirs)


def _apart(a: tuple[str, str], b: tuple[str, str]) -> bool:
    if a[0] == b[0]:
        return bool(a[1] and b[1]) and a[1] != b[1]
    return not (a[0].startswith(b[0] + "/") or b[0].startswith(a[0] + "/"))  # by segment


def _address(url: str, base: str = "") -> tuple[str, str] | None:
    """An absolute web address's path and query, as one page's are compared (a
    root-relative one resolved against `base`)."""
    try:
        url = url.strip()[:2048]
        parts = urlsplit(urljoin(base[:2048], url) if url.startswith("/") else url)
    except ValueError:  # "http://[::1": a stranger's
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    path = unquote(parts.path).casefold().replace("/amp/", "/").removesuffix("/amp")
    path = re.sub(r"/+", "/", path).removesuffix("index.html").rstrip("/")
    return path, "&".join(sorted(unquote(parts.query).split("&"))) if parts.query else ""
