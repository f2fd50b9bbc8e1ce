"""Storage: the schema, the Store interface and its migrations.

`open_store` is the one place a backend is chosen: an SQLAlchemy URL (SQLite
by default, PostgreSQL works the same) is opened, migrated to the current
schema and wrapped in a Store.
"""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError as StoreFailure  # disk full, read-only, locked too long

from raqib.storage import sqlite
from raqib.storage.migrate import upgrade
from raqib.storage.store import FetchRecord, Recorded, Snapshot, Store, StoreError, Task

__all__ = [
    "FetchRecord",
    "Recorded",
    "Snapshot",
    "Store",
    "StoreError",
    "StoreFailure",
    "Task",
    "open_store",
]


def open_store(url: str, *, readonly: bool = False, migrate: bool = True) -> Store:
    engine = create_engine(url, future=True)
    if sqlite.is_sqlite(url):
        sqlite.configure(engine, readonly=readonly)
    if migrate and not readonly:
        upgrade(engine)
    return Store(engine)
