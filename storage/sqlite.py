"""Everything SQLite-specific lives here: the URL, the pragmas, the locking mode.

WAL lets readers (report, serve) run while a pass writes; a busy timeout makes
a second writer wait instead of failing; BEGIN IMMEDIATE takes the write lock
when a transaction starts, so two writers never both read and then collide on
upgrade (the case a busy timeout cannot save, "database is locked").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event

from raqib.storage.db import StoreError

BUSY_TIMEOUT_MS = 30_000


def url_for(path: Path) -> str:
    return f"sqlite:///{path}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure(engine: Engine, *, readonly: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            cur.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a power cut may lose the last commits but never
            # corrupts the database; a killed process loses nothing committed.
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def foreign_keys(conn: Connection, *, on: bool) -> None:
    """Turn foreign-key enforcement on or off for this connection. SQLite
    ignores the pragma inside a transaction, so it goes to the driver, which
    is in autocommit mode here (see configure)."""
    if conn.in_transaction():
        raise RuntimeError("foreign keys can only be switched between transactions")
    conn.connection.driver_connection.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")  # type: ignore[union-attr]


def foreign_keys_on(conn: Connection) -> bool:
    return bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())


def broken_references(conn: Connection) -> set[tuple[Any, ...]]:
    """Rows that point at a row that is not there: (table, rowid, parent,
    column). The column, not the key's number, which a rebuilt table renumbers."""
    columns: dict[str, dict[int, str]] = {}
    out = set()
    for table, rowid, parent, fk in conn.exec_driver_sql("PRAGMA foreign_key_check").all():
        if table not in columns:
            keys = conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all()
            columns[table] = {int(k[0]): str(k[3]) for k in keys}
        out.add((table, rowid, parent, columns[table].get(int(fk), str(fk))))
    return out


def check_references(conn: Connection, before: set[tuple[Any, ...]]) -> None:
    """Raise StoreError when rows point at missing rows that did not before
    (a database that already held such rows can still be upgraded)."""
    if new := broken_references(conn) - before:
        shown = ", ".join(f"{r[0]} row {r[1]} → {r[2]}" for r in sorted(new, key=str)[:3])
        raise StoreError(
            f"the upgrade would leave {len(new)} broken references ({shown}); nothing was changed"
        )


def integrity_check(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())


def vacuum(engine: Engine) -> None:
    """Give freed pages back to the file system. VACUUM cannot run inside a
    transaction, so it goes straight to the driver (in autocommit mode here)."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
    finally:
        raw.close()


# --- full-text search: FTS5 over the matching keys of versions ---------------------------
# An external-content FTS5 table indexes version_search.key; without FTS5
# (a Python built against an SQLite without it) search falls back to LIKE.


def create_search(conn: Any) -> None:
    if has_fts5(conn):
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS version_search_fts USING fts5("
            "key, content='version_search', content_rowid='version_id', tokenize='unicode61')"
        )


def has_fts5(conn: Any) -> bool:
    return bool(
        conn.exec_driver_sql(
            "SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_FTS5'"
        ).first()
    ) or _fts5_probe(conn)


def _fts5_probe(conn: Any) -> bool:
    try:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE temp.raqib_fts5_probe USING fts5(x)")
    except Exception:
        return False
    conn.exec_driver_sql("DROP TABLE temp.raqib_fts5_probe")
    return True


def index_search(conn: Any, rows: list[tuple[int, str]]) -> None:
    """Add (version id, key) rows, already in version_search, to the FTS index."""
    if rows and _has_fts_table(conn):
        conn.exec_driver_sql("INSERT INTO version_search_fts (rowid, key) VALUES (?, ?)", rows)


def unindex_search(conn: Any, rows: list[tuple[int, str]]) -> None:
    """Take (version id, key) rows out of the FTS index before they are deleted
    (an external-content index is told, not triggered)."""
    if rows and _has_fts_table(conn):
        conn.exec_driver_sql(
            "INSERT INTO version_search_fts (version_search_fts, rowid, key) "
            "VALUES ('delete', ?, ?)",
            rows,
        )


def search_ids(
    conn: Any,
    tokens: Sequence[str | tuple[str, ...]],
    limit: int,
    before: int | None = None,
    watches: Sequence[int] | None = None,
) -> list[int] | None:
    """Version ids whose key holds a word starting with each word, and one
    starting with one of each tuple's forms (tokens are word characters, a
    number's . and ,), newest first: below `before`, of `watches`, when
    given. None without FTS5 (then LIKE)."""
    if not _has_fts_table(conn):
        return None

    def quoted(t: str) -> str:
        return '"' + t.replace('"', '""') + '"'

    query = " AND ".join(
        "(" + " OR ".join(quoted(f) + "*" for f in t) + ")"
        if isinstance(t, tuple)
        else quoted(t) + "*"
        for t in tokens
    )
    where, params = ["version_search_fts MATCH ?"], list[Any]([query])
    if before is not None:
        where.append("rowid < ?")
        params.append(before)
    if watches is not None:
        marks = ", ".join("?" * len(watches))
        where.append(
            f"rowid IN (SELECT version_id FROM version_search WHERE watch_id IN ({marks}))"
        )
        params.extend(watches)
    return [
        int(r[0])
        for r in conn.exec_driver_sql(
            f"SELECT rowid FROM version_search_fts WHERE {' AND '.join(where)} "
            "ORDER BY rowid DESC LIMIT ?",
            (*params, limit),
        )
    ]


def _has_fts_table(conn: Any) -> bool:
    # Asked once per version recorded: a table found is remembered by the
    # DBAPI connection (the migration that makes it may run later, so a miss is not).
    if conn.info.get("raqib_fts"):
        return True
    found = bool(
        conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'version_search_fts'"
        ).first()
    )
    if found:
        conn.info["raqib_fts"] = True
    return found
