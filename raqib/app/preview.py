"""Show what is monitored: fetch a page once and say what Raqib reads in it.

`raqib watch URL` fetches each new watch at once (its first version) and
`raqib preview URL` does the same in a throwaway home, storing nothing: the
headline, the lede, the first words, how many paragraphs, tables and words,
and the extractor's verdict. A user sees at once when the lede or the body
is missing.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from raqib.app.errors import BadInput
from raqib.app.home import App, load_config
from raqib.app.passes import run_check
from raqib.clock import Clock
from raqib.clock import from_env as clock_from_env
from raqib.domain import Watch
from raqib.extract.results import Article
from raqib.storage import open_storage, sqlite

EXCERPT_WORDS = 30


@dataclass
class Preview:
    url: str
    watch_id: int | None
    outcome: str | None  # of the fetch: new_version, not_article, error, …
    detail: str | None
    title: str | None = None
    lede: list[str] = field(default_factory=list)
    excerpt: str = ""
    paragraphs: int = 0
    tables: int = 0
    words: int = 0


def fetch_now(app: App, watches: list[Watch]) -> None:
    """Fetch these watches now (their first version, if they are articles)."""
    if watches:
        run_check(app, all_watches=True, only=[w.id for w in watches])


def previews(app: App, watches: list[Watch]) -> list[Preview]:
    """What the last fetch of each watch read."""
    return [_preview(app, w) for w in watches]


def _preview(app: App, w: Watch) -> Preview:
    log = app.storage.history.fetches(w.id)
    last = log[-1] if log else None
    out = Preview(w.url, w.id, last.outcome if last else None, last.detail if last else None)
    versions = app.storage.history.versions(w.id)
    if not versions:
        return out
    v = versions[-1]
    words = v.text.split()
    out.title, out.words = v.title, len(words)
    out.excerpt = " ".join(words[:EXCERPT_WORDS]) + (" …" if len(words) > EXCERPT_WORDS else "")
    out.paragraphs = len([p for p in v.text.split("\n") if p.strip()])
    article = _structure(app, v.raw_hash, v.url)
    if article is not None:
        out.lede, out.tables = list(article.lede), article.tables
    return out


def _structure(app: App, raw_hash: str | None, url: str) -> Article | None:
    """The extracted article again, for what a version does not keep (lede, tables)."""
    from raqib.extract.article import extract
    from raqib.extract.decoding import decoded

    raw = app.storage.history.raw_body(raw_hash) if raw_hash else None
    if raw is None:
        return None
    result = extract(decoded(raw), url)
    return result if isinstance(result, Article) else None


def preview(
    home: Path, raw_urls: list[str], *, clock: Clock | None = None, render: bool = False
) -> list[Preview]:
    """Fetch each URL once, with this home's settings, storing nothing
    (`render`: through the browser, as `watch --render` would)."""
    from raqib.app.history import add_watches

    if not raw_urls:
        raise BadInput("give at least one URL to preview")
    config = load_config(home)
    config.archive = dataclasses.replace(config.archive, warc=False)
    config.notify = dataclasses.replace(config.notify, channels=[])
    tmp = Path(tempfile.mkdtemp(prefix="raqib-preview-"))
    storage = open_storage(sqlite.url_for(tmp / "preview.db"))
    app = App(home=tmp, config=config, storage=storage, clock=clock or clock_from_env())
    try:
        watches = [w for w, _created in add_watches(app, raw_urls, story=None)]
        if render:
            app.storage.watches.set_fetch_mode([w.id for w in watches], {"render": True})
        fetch_now(app, watches)
        return previews(app, watches)
    finally:
        app.close()
        shutil.rmtree(tmp, ignore_errors=True)
