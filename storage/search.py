"""Searching every stored version by matching key.

Each version's matching key (spelling folded: hamza, ta marbuta, tashkeel,
digits, numbers written as words) is indexed once, after the pass that
stored it: FTS5 on SQLite, a tsvector on PostgreSQL (the engine-specific
SQL is in storage/sqlite.py and storage/postgres.py). A search keys its
words the same way, so spelling variants find each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update

from raqib.domain import Version, Watch
from raqib.normalize.arabic import SEARCH_SPELLING
from raqib.storage import models as m
from raqib.storage import postgres, sqlite
from raqib.storage.db import MAX_BATCH_CHARS, Database, insert_new, to_domain
from raqib.storage.watches import load

INDEX_BATCH = 500


def add_keys(conn: Any, values: list[dict[str, Any]]) -> None:
    """Index versions by their keys ({version_id, watch_id, key} rows), in the
    caller's transaction: a pass's recorder, which keyed its new versions as it
    went, or refresh, for whatever was stored without a key."""
    if not values:
        return
    for v in values:
        v["spelling"] = SEARCH_SPELLING
    dialect = conn.dialect.name
    if dialect == "postgresql":  # two workers may index the same version
        insert_new(conn, m.VersionSearch.__table__, values)
    else:
        conn.execute(insert(m.VersionSearch), values)
    if dialect == "sqlite":
        sqlite.index_search(conn, [(v["version_id"], v["key"]) for v in values])


def _keyed(rows: Any, key: Callable[[str], str]) -> list[tuple[int, Any, str]]:
    """(version id, the row's second column, key) of (id, x, title, text) rows,
    as they are read, up to a batch's text; the rest are left unread."""
    out: list[tuple[int, Any, str]] = []
    chars = 0
    for vid, other, title, body in rows:
        out.append((vid, other, key(f"{title}\n{body}")))
        chars += len(body)
        if chars > MAX_BATCH_CHARS:
            break
    rows.close()
    return out


class SearchRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def _dialect(self) -> str:
        return self.db.engine.dialect.name

    def refresh(self, key: Callable[[str], str], *, limit: int | None = None) -> int:
        """Index the versions stored since the last refresh; returns how many."""
        done = 0
        while limit is None or done < limit:
            with self.db.session() as s:
                # Versions not indexed yet, not "ids above the highest indexed":
                # on PostgreSQL workers commit out of id order.
                indexed = select(m.VersionSearch.version_id).where(
                    m.VersionSearch.version_id == m.Version.id
                )
                # The ids first, in no order: SQLite then reads an index, not
                # every row of the table (its text with it), on every pass.
                todo = list(
                    s.scalars(select(m.Version.id).where(~indexed.exists()).limit(INDEX_BATCH))
                )
                rows = s.execute(
                    select(m.Version.id, m.Version.watch_id, m.Version.title, m.Version.text)
                    .where(m.Version.id.in_(todo))
                    .order_by(m.Version.id)
                    .execution_options(yield_per=50)
                )
                keys = [
                    {"version_id": vid, "watch_id": wid, "key": k}
                    for vid, wid, k in _keyed(rows, key)
                ]
                if not keys:
                    break
                add_keys(s.connection(), keys)
                done += len(keys)
        return done

    def stale(self) -> int:
        """How many versions an older spelling of the key keyed."""
        with self.db.session() as s:
            q = select(func.count()).where(m.VersionSearch.spelling < SEARCH_SPELLING)
            return int(s.scalar(q) or 0)

    def rekey(
        self,
        key: Callable[[str], str],
        *,
        limit: int,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Key again up to `limit` versions an older spelling keyed, oldest
        first, a batch a transaction; returns how many."""
        vs = m.VersionSearch
        done = 0
        while done < limit:
            with self.db.session() as s:
                rows = s.execute(
                    select(vs.version_id, vs.key, m.Version.title, m.Version.text)
                    .join(m.Version, m.Version.id == vs.version_id)
                    .where(vs.spelling < SEARCH_SPELLING)
                    .order_by(vs.version_id)
                    .limit(min(INDEX_BATCH, limit - done))
                    .execution_options(yield_per=50)
                )
                batch = _keyed(rows, key)
                old = [(vid, was) for vid, was, _k in batch]
                new = [{"vid": vid, "k": k} for vid, _was, k in batch]
                if not new:
                    break
                conn = s.connection()
                if self._dialect == "sqlite":  # SQLite's writer holds the database: old is current
                    sqlite.unindex_search(conn, old)
                conn.execute(
                    update(vs)
                    # Another worker (PostgreSQL) may have keyed it since it was read.
                    .where(vs.version_id == bindparam("vid"), vs.spelling < SEARCH_SPELLING)
                    .values(key=bindparam("k"), spelling=SEARCH_SPELLING),
                    new,
                )
                if self._dialect == "sqlite":
                    sqlite.index_search(conn, [(vid, k) for vid, _was, k in batch])
                done += len(new)
            if progress is not None:
                progress(len(new))
        return done

    def find(
        self,
        tokens: Sequence[str | tuple[str, ...]],
        *,
        limit: int = 200,
        before: int | None = None,
        watches: Sequence[int] | None = None,
    ) -> list[tuple[Watch, Version]]:
        """Versions whose key holds every token, newest first, with their watch:
        a word as the start of a word, a tuple (a number's written forms) as the
        start of one of them; with ids below `before`, of `watches`, when given.
        The caller reads a number whole (50 also starts 500)."""
        if not tokens:
            return []
        with self.db.session() as s:
            conn = s.connection()
            ids: list[int] | None
            if self._dialect == "postgresql":
                ids = postgres.search_ids(conn, tokens, limit, before, watches)
            elif self._dialect == "sqlite":
                ids = sqlite.search_ids(conn, tokens, limit, before, watches)
            else:
                ids = None
            q = select(m.Version).join(m.VersionSearch, m.VersionSearch.version_id == m.Version.id)
            if ids is None:  # no full-text index here: a scan, still by matching key
                for t in tokens:
                    forms = t if isinstance(t, tuple) else (t,)
                    q = q.where(
                        or_(*(m.VersionSearch.key.contains(f, autoescape=True) for f in forms))
                    )
                if before is not None:
                    q = q.where(m.Version.id < before)
                if watches is not None:
                    q = q.where(m.Version.watch_id.in_(list(watches)))
                q = q.order_by(m.Version.id.desc()).limit(limit)
            if ids is None:
                versions = list(s.scalars(q))
            else:  # a bounded list of ids a query: SQLite's bound parameters are bounded
                versions = [
                    v for i in range(0, len(ids), 500)
                    for v in s.scalars(q.where(m.Version.id.in_(ids[i : i + 500])))
                ]  # fmt: skip
                versions.sort(key=lambda v: v.id, reverse=True)
            by_id = {
                w.id: w
                for w in load(
                    s,
                    list(
                        s.scalars(
                            select(m.Watch).where(m.Watch.id.in_({v.watch_id for v in versions}))
                        )
                    ),
                )
            }
            return [(by_id[v.watch_id], to_domain(Version, v)) for v in versions]
