"""The robots.txt answers kept between passes ([fetch] robots_ttl): which are
kept, what one says, and forgetting them so that the next pass asks again (a
site that has just changed its rules need not wait out the TTL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from raqib import urls
from raqib.app.errors import BadInput, NotFound
from raqib.app.home import App
from raqib.config import parse_duration
from raqib.domain import KeptRobots


def ttl(app: App) -> timedelta:
    return parse_duration(app.config.fetch.robots_ttl)


def kept(app: App) -> list[KeptRobots]:
    return app.storage.robots.kept()


def used_until(answer: KeptRobots, ttl: timedelta) -> datetime | None:
    """Until when passes use `answer` instead of asking (None: a TTL of 0, never)."""
    return answer.fetched_at + ttl if ttl > timedelta(0) else None


def matching(app: App, where: str) -> list[str]:
    """The kept origins `where` names: a URL names its own (scheme, host and
    port), a bare host every one on that host. Both are read as a watched
    URL is (an Arabic host name in punycode, a default port dropped)."""
    where = where.strip()
    if not where:
        raise BadInput("name a host, or a URL on it")
    url = where if "://" in where else f"http://{where}/"
    try:
        parts = urlsplit(urls.normalize(url, allow_credentials=True))
    except urls.BadURL as exc:
        raise BadInput(f"not a host or a web address: {exc}") from None
    if "://" in where:
        return [a.origin for a in kept(app) if a.origin == f"{parts.scheme}://{parts.netloc}"]
    return [a.origin for a in kept(app) if urlsplit(a.origin).hostname == parts.hostname]


def body(app: App, where: str) -> tuple[str, bytes]:
    """The kept body of the one origin `where` names."""
    origins = matching(app, where)
    if not origins:
        raise NotFound(f"no robots.txt answer is kept for {where}")
    if len(origins) > 1:
        raise BadInput(f"{where} names {' and '.join(origins)}: give the scheme too")
    found = app.storage.robots.body(origins[0])
    if found is None:  # forgotten meanwhile
        raise NotFound(f"no robots.txt answer is kept for {where}")
    return origins[0], found


def forget(app: App, wheres: list[str], *, everything: bool) -> list[str]:
    """Forget the answers `wheres` name (every answer, with `everything`);
    returns the origins forgotten."""
    if everything == bool(wheres):
        raise BadInput("name the hosts to forget, or give --all")
    if everything:
        origins = [a.origin for a in kept(app)]
        app.storage.robots.forget(None)
        return origins
    origins = sorted({o for where in wheres for o in matching(app, where)})
    if origins:
        app.storage.robots.forget(origins)
    return origins
