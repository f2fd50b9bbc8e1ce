"""The database handle every repository shares: one engine, one transaction
per logical write, and the mapping from rows to the domain's dataclasses."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from raqib.storage.blobs import BlobCache

T = TypeVar("T")

# The text a batch of versions read for judging or indexing holds at most (one
# version or pair alone may exceed it): the memory goes with it, about ten
# bytes a character, so an archive's long texts are read a few at a time.
MAX_BATCH_CHARS = 4_000_000


class StoreError(LookupError):
    """A request the store cannot satisfy (unknown watch, bad argument)."""


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.blobs = BlobCache()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as s:
            yield s

    def url(self) -> str:
        """The database URL, credentials included (for a pass's other processes)."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def to_domain(cls: type[T], obj: Any, **extra: Any) -> T:
    """A domain dataclass from an ORM object or a row, by field name."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    source = obj._mapping if hasattr(obj, "_mapping") else None
    values = {
        n: extra[n] if n in extra else (source[n] if source is not None else getattr(obj, n))
        for n in names
    }
    return cls(**values)


def insert_new(
    conn: Any, table: Any, rows: list[dict[str, Any]], *, returning: Sequence[Any] = ()
) -> list[Any]:
    """Insert rows, skipping those whose key another worker wrote first:
    INSERT … ON CONFLICT DO NOTHING, which both backends speak (a savepoint
    per row cost more than the insert itself). `returning`: columns to read
    back from the rows this call inserted (the skipped ones return nothing)."""
    statement = _insert(conn, table).on_conflict_do_nothing()
    if not returning:
        conn.execute(statement, rows)
        return []
    return list(conn.execute(statement.returning(*returning), rows))


def upsert(
    conn: Any, table: Any, rows: list[dict[str, Any]], key: str, newer: str | None = None
) -> None:
    """Insert rows; one whose `key` is stored already replaces the stored row
    (only if its `newer` column is later, when given): INSERT … ON CONFLICT
    DO UPDATE [WHERE], which both backends speak."""
    if not rows:
        return
    statement = _insert(conn, table)
    new = statement.excluded
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[key],
            set_={c.name: new[c.name] for c in table.columns if c.name != key},
            where=table.c[newer] < new[newer] if newer else None,
        ),
        rows,
    )


def _insert(conn: Any, table: Any) -> Any:
    """The backend's own INSERT construct: the one that can say ON CONFLICT.
    Only that backend's dialect is imported: PostgreSQL's takes 40 ms, which a
    pass on SQLite would pay for nothing."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str | None, limit: int) -> str | None:
    """A stranger's short text (a header, an error's message) as a column
    holds it on both backends: no NUL (PostgreSQL refuses one), no lone
    surrogate (no driver encodes one), within the column's width."""
    if not value:
        return None
    return _UNSTORABLE.sub("", value)[:limit] or None


def refused_value(exc: BaseException) -> bool:
    """Whether the database refused a value (not a failure of the database)."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, (DataError, IntegrityError, UnicodeError)) or isinstance(
        orig, UnicodeError
    )


def refusal(exc: BaseException) -> str:
    """The driver's own words for it, on one line."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {(str(orig).splitlines() or [''])[0]}"


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (typed Results do not declare it)."""
    return int(getattr(result, "rowcount", 0) or 0)


def free(model: Any, now: datetime) -> Any:
    """Rows of `model` (watches, messages) no claim holds at `now`."""
    return or_(model.lease_expires_at.is_(None), model.lease_expires_at < now)


def lease_rows(
    s: Session, model: Any, ids: Sequence[int], owner: str, *, now: datetime, until: timedelta
) -> None:
    """Lease the rows `ids` of `model` to `owner` for `until`, those still free:
    the write of every claim, after its locked pick."""
    s.execute(
        update(model)
        .where(model.id.in_(list(ids)), free(model, now))
        .values(lease_owner=owner, lease_expires_at=now + until)
        .execution_options(synchronize_session=False)
    )
