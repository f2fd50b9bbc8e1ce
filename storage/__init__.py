"""Storage: the schema, its migrations and one small repository per aggregate.

`open_storage` is the one place a backend is chosen and the repositories are
put together: an SQLAlchemy URL (SQLite by default, PostgreSQL for several
workers) is opened, migrated to the current schema, and handed to each
repository. Everything above this package speaks in raqib.domain's types;
no SQL leaves it, and SQLite specifics stay in storage/sqlite.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError as StoreFault  # whatever the database raised
from sqlalchemy.exc import OperationalError as StoreFailure  # disk full, read-only, locked too long

from raqib.storage import postgres, sqlite
from raqib.storage.archive import ArchiveRepo
from raqib.storage.changes import ChangeRepo
from raqib.storage.db import Database, StoreError
from raqib.storage.discovery import DiscoveryRepo
from raqib.storage.history import HistoryRepo
from raqib.storage.leases import LeaseRepo
from raqib.storage.migrate import OlderSchema, check, upgrade
from raqib.storage.outbox import OutboxRepo
from raqib.storage.outlets import OutletRepo
from raqib.storage.robots import RobotsRepo
from raqib.storage.search import SearchRepo
from raqib.storage.watches import WatchRepo

__all__ = ["Storage", "StoreError", "StoreFailure", "StoreFault", "open_storage"]


@dataclass
class Storage:
    """The repositories of one database, sharing its engine."""

    db: Database
    watches: WatchRepo
    leases: LeaseRepo
    history: HistoryRepo
    changes: ChangeRepo
    discovery: DiscoveryRepo
    archive: ArchiveRepo
    outbox: OutboxRepo
    outlets: OutletRepo
    search: SearchRepo
    robots: RobotsRepo

    def url(self) -> str:
        """The database URL, credentials included (for a pass's other processes)."""
        return self.db.url()

    def safe_url(self) -> str:
        """The database URL with its password hidden: which database, stable
        across a password's rotation."""
        return self.db.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.db.close()


def _upgrade_to_read(url: str, options: dict[str, Any], older: OlderSchema) -> None:
    """A command that only reads, on a schema older than this Raqib's: the
    one write it makes is the upgrade (or it waits for the one under way).
    Where it cannot write, it says so, with the older schema's message."""
    writer = create_engine(url, future=True, **options)
    try:
        if sqlite.is_sqlite(url):
            sqlite.configure(writer, readonly=False)
        upgrade(writer)
    except StoreFault as exc:
        raise OlderSchema(f"{older} (it could not be upgraded here: {exc.orig})") from None
    finally:
        writer.dispose()


def open_storage(url: str, *, readonly: bool = False, migrate: bool = True) -> Storage:
    options = postgres.engine_options() if postgres.is_postgres(url) else {}
    engine = create_engine(url, future=True, **options)
    if sqlite.is_sqlite(url):
        sqlite.configure(engine, readonly=readonly)
    try:
        check(engine, readonly=readonly)
    except OlderSchema as exc:
        if not migrate:
            raise
        _upgrade_to_read(url, options, exc)  # else `raqib serve` stays down until a pass
    if migrate and not readonly:
        upgrade(engine)
    db = Database(engine)
    return Storage(
        db=db,
        watches=WatchRepo(db),
        leases=LeaseRepo(db),
        history=HistoryRepo(db),
        changes=ChangeRepo(db),
        discovery=DiscoveryRepo(db),
        archive=ArchiveRepo(db),
        outbox=OutboxRepo(db),
        outlets=OutletRepo(db),
        search=SearchRepo(db),
        robots=RobotsRepo(db),
    )
