"""Outlets to and from OPML files (`raqib outlet import/export`): a feed
reader's list of outlets, each with its sources."""

from __future__ import annotations

import re

from raqib import urls
from raqib.app.errors import BadInput
from raqib.app.home import App
from raqib.app.outlets import add, one_reader
from raqib.domain import Outlet


def import_opml(app: App, data: bytes, *, allow_private: bool = False) -> list[tuple[Outlet, bool]]:
    """Follow an OPML file's outlets; one source that is not a public site's
    web address (`history.listed`) refuses the whole file, before any is stored."""
    from raqib.app import history
    from raqib.discovery.outlets import read_opml

    try:
        found = read_opml(data)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if not found:
        raise BadInput("the OPML file lists no feed or page")
    allow_private = allow_private or app.config.fetch.allow_private
    for name, sources, _retain in found:
        for _kind, url in sources:
            try:
                history.listed(url, allow_private=allow_private)
            except urls.BadURL as exc:
                raise BadInput(
                    f"{name[:80]!r}: {urls.redact(url)[:120]!r}: {exc}; nothing imported"
                ) from None
    slugs = [re.sub(r"[^\w.-]+", "-", n.strip()).strip("-.")[:100] or "outlet" for n, *_ in found]
    named: dict[str, str] = {}
    for slug, (name, *_rest) in zip(slugs, found, strict=True):
        if named.setdefault(slug, name) != name:  # "الجزيرة" and "الجزيرة!" are two outlets
            raise BadInput(
                f"{named[slug][:80]!r} and {name[:80]!r} would both be outlet {slug!r}: "
                "rename one in the file; nothing imported"
            )
    readers: dict[str, str] = {}
    for slug, (_name, sources, _retain) in zip(slugs, found, strict=True):
        for _kind, url in sources:
            if readers.setdefault(urls.normalize(url), slug) != slug:
                raise BadInput(
                    f"{urls.redact(url)[:120]!r} is listed by two outlets; nothing imported"
                )
    one_reader(app, readers)
    out = []
    for slug, (_name, sources, retain) in zip(slugs, found, strict=True):
        out.append(
            add(
                app, slug,
                feeds=[u for k, u in sources if k == "feed"],
                sitemaps=[u for k, u in sources if k == "sitemap"],
                fronts=[u for k, u in sources if k == "front"],
                retain_days=retain if retain is not None and 1 <= retain <= 3650 else None,
            )
        )  # fmt: skip
    return out


def export_opml(app: App) -> bytes:
    from raqib.discovery.outlets import write_opml

    return write_opml(
        [
            (o.name, o.retain_days, [(s.kind, s.url) for s in o.sources])
            for o in app.storage.outlets.all()
        ]
    )
