"""Bring a database to the current schema with Alembic (no alembic.ini needed).

Every command opens the database, so the common case — already at the head
revision — is checked with one query and without importing Alembic (a fifth
of a second per process). HEAD must name the newest migration; a test checks
it against Alembic's own view.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError

from raqib.storage import postgres, sqlite
from raqib.storage.db import StoreError

log = logging.getLogger("raqib")


class SchemaError(StoreError):
    """A database this Raqib cannot use: empty, foreign, or of another schema."""


class OlderSchema(SchemaError):
    """A schema older than this Raqib's, met by a command that only reads."""


# Every revision this Raqib knows, oldest first; HEAD is the newest. A test
# checks both against Alembic's own view.
REVISIONS = tuple(f"{n:04d}" for n in range(1, 20))
HEAD = REVISIONS[-1]
MIGRATIONS = Path(__file__).with_name("migrations")


def config(engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config()).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def check(engine: Engine, *, readonly: bool) -> None:
    """Refuse, with one line that says why, a database this Raqib cannot use.

    Every command checks, reads included: a newer schema may have changed
    what a column means, and an older one lacks what this Raqib reads.
    """
    try:
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                postgres.wait_for_migration(conn)
            tables = set(inspect(conn).get_table_names())
            rev = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in tables
                else None
            )
    except OperationalError:
        raise  # locked, disk full, I/O: the caller names those
    except DatabaseError as exc:  # "file is not a database" and its kin
        raise SchemaError(f"not a database Raqib can read ({str(exc).splitlines()[0]})") from None
    if rev is None:
        if tables - {"alembic_version"}:
            shown = ", ".join(sorted(tables)[:5])
            raise SchemaError(f"not a Raqib database: it holds other tables ({shown})")
        if readonly:
            raise SchemaError(
                "the database is empty: nothing is watched yet (run `raqib watch URL`)"
            )
        return  # a new database: upgrade() creates the schema
    if rev not in REVISIONS:
        raise SchemaError(
            f"the database has schema {rev}, newer than this Raqib's {HEAD}: "
            "upgrade Raqib before using this database"
        )
    if rev != HEAD and readonly:
        raise OlderSchema(
            f"the database has schema {rev}, older than this Raqib's {HEAD}: "
            "run a command that writes (raqib check) to upgrade it"
        )


def upgrade(engine: Engine) -> None:
    """Migrate to head; a no-op (one cheap query) when already there.

    Two processes may migrate at once (a daemon and a cron pass starting
    together): on PostgreSQL an advisory lock makes the second wait, on
    SQLite the write lock does; either way it then finds the schema current.
    """
    if current(engine) == HEAD:
        return
    from alembic import command

    cfg = config(engine)
    with engine.connect() as conn:
        rebuilds = conn.dialect.name == "sqlite"
        if rebuilds:
            # A migration that rebuilds a table (0008) drops the old one: with
            # foreign keys on, that would delete every row pointing at it.
            sqlite.foreign_keys(conn, on=False)
        was, started, done = None, 0.0, False
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    postgres.lock_for_migration(conn)
                if (was := _version(conn)) == HEAD:
                    return  # another process migrated while this one waited
                if was is not None:  # a new database's schema takes no time
                    # Said first: a large home's rebuild takes a while, and
                    # the other processes wait for it (exit 75 past the busy timeout).
                    log.warning(
                        "upgrading the database from schema %s to %s: other Raqib commands wait",
                        was, HEAD,
                    )  # fmt: skip
                    started = time.monotonic()
                cfg.attributes["connection"] = conn
                broken = sqlite.broken_references(conn) if rebuilds else set()
                command.upgrade(cfg, "head")
                if rebuilds:
                    sqlite.check_references(conn, broken)  # raises: the upgrade rolls back
            done = True
            if was is not None:
                log.warning("database upgraded in %.1f s", time.monotonic() - started)
        finally:
            try:
                if rebuilds:
                    sqlite.foreign_keys(conn, on=True)
            except Exception:
                # A connection a Ctrl-C left mid-transaction cannot be asked:
                # the interrupt (nothing changed, it rolled back) is the news.
                # Never pooled again with its foreign keys off.
                conn.invalidate()
                if done:
                    raise


def _version(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
