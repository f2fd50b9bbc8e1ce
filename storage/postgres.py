"""Everything PostgreSQL-specific: connection bounds, and the lock that lets
several processes migrate one database at once.

PostgreSQL is the engine for several workers on several machines. Claims use
`FOR UPDATE SKIP LOCKED` (written portably in the repositories; SQLite,
whose transactions are single-writer, ignores it), so two workers never wait
on, or both win, the same watch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x52415149  # "RAQI": the advisory lock every migrating process takes
CLAIM_LOCK = 0x52514348  # "RQCH": held by each claim of watches, one claim at a time
CLAIM_IDLE_TIMEOUT = "10s"  # a claim's transaction waits on no one: idle this long, it is stuck
CONNECT_TIMEOUT_S = 10
# A statement that waits this long on a lock gives up: a pass reports the
# database busy (exit 75) instead of hanging behind a stuck transaction.
LOCK_TIMEOUT = "30s"
STATEMENT_TIMEOUT = "10min"
TCP_USER_TIMEOUT_MS = 20_000


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres"))


def engine_options() -> dict[str, Any]:
    return {
        "pool_pre_ping": True,  # a connection cut (a worker's link down) is replaced, not reused
        "connect_args": {
            "connect_timeout": CONNECT_TIMEOUT_S,
            # A link that goes dead mid-statement fails the statement within
            # seconds, not at TCP's retransmission timeout a quarter hour later.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
            "options": f"-c lock_timeout={LOCK_TIMEOUT} -c statement_timeout={STATEMENT_TIMEOUT}",
            "application_name": "raqib",
        },
    }


def lock_for_migration(conn: Connection) -> None:
    """Hold the migration lock until this transaction ends: a second process
    migrating at the same time waits, then finds the schema current."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def wait_for_migration(conn: Connection) -> None:
    """Wait, in this transaction, for a migration under way to commit: a
    schema read before it had would pass an older Raqib's check, which then
    wrote rows of its own schema into the migrated tables."""
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": MIGRATION_LOCK})


def lock_for_claims(conn: Connection) -> None:
    """Hold the claim lock until this transaction ends. Which hosts another
    worker holds is read before watches are leased: two claims at once would
    both see a host free and both take it (SQLite's BEGIN IMMEDIATE already
    serialises them). A worker frozen or cut off mid-claim would hold it, and
    stop every claim, until the server noticed the connection gone (hours):
    the server ends such a transaction after CLAIM_IDLE_TIMEOUT idle."""
    conn.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = '{CLAIM_IDLE_TIMEOUT}'"))
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})


def server_time(conn: Connection) -> Any:
    """The database server's clock now (not the transaction's start)."""
    return conn.execute(text("SELECT clock_timestamp()")).scalar_one()


# --- full-text search: a tsvector over the matching keys of versions ---------------------


def create_search(conn: Any) -> None:
    conn.execute(
        text(
            "ALTER TABLE version_search ADD COLUMN IF NOT EXISTS tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', key)) STORED"
        )
    )
    conn.execute(
        text("CREATE INDEX IF NOT EXISTS ix_version_search_tsv ON version_search USING gin (tsv)")
    )


def search_ids(
    conn: Any,
    tokens: Sequence[str | tuple[str, ...]],
    limit: int,
    before: int | None = None,
    watches: Sequence[int] | None = None,
) -> list[int]:
    """Version ids whose key holds a word starting with each word, and one
    starting with one of each tuple's forms, newest first (below `before`, of
    `watches`, when given). The 'simple' configuration: no stemming, the keys
    are already folded."""
    query = " & ".join(
        "(" + " | ".join(f"{f}:*" for f in t) + ")" if isinstance(t, tuple) else f"{t}:*"
        for t in tokens
    )
    where, params = ["tsv @@ to_tsquery('simple', :q)"], {"q": query, "lim": limit}
    if before is not None:
        where.append("version_id < :before")
        params["before"] = before
    if watches is not None:
        where.append("watch_id = ANY(:watches)")
        params["watches"] = list(watches)
    return [
        int(r[0])
        for r in conn.execute(
            text(
                f"SELECT version_id FROM version_search WHERE {' AND '.join(where)} "
                "ORDER BY version_id DESC LIMIT :lim"
            ),
            params,
        )
    ]


# deadlock_detected, serialization_failure: PostgreSQL rolled the transaction
# back whole, and running it again is the documented answer.
_RETRYABLE = frozenset({"40P01", "40001"})


def retryable(exc: BaseException) -> bool:
    """Whether `exc` is a transaction PostgreSQL rolled back that may run again."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _RETRYABLE


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the server is out of reach (refused, restarting, its
    link cut): psycopg's, with no SQL state or a connection's or a shutdown's."""
    orig = getattr(exc, "orig", None)
    if not type(orig).__module__.startswith("psycopg"):
        return False  # SQLite's "database is locked" has no state either
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith(("08", "57P01", "57P02", "57P03"))


class Reach:
    """A writer's patience with a server out of reach: it tries again, waiting
    longer each time (0.5 s, doubled, at most 8 s), for `seconds` in all."""

    def __init__(self, seconds: float) -> None:
        self.wait, self.until = 0.5, time.monotonic() + seconds

    def again(self, exc: BaseException, what: str) -> bool:
        """After `exc`: whether to write `what` again (having waited)."""
        if not unreachable(exc) or time.monotonic() + self.wait > self.until:
            return False
        said = getattr(exc, "orig", exc)
        log.warning(
            "the database is out of reach; writing %s again in %.1f s: %s", what, self.wait, said
        )
        time.sleep(self.wait)
        self.wait = min(self.wait * 2, 8.0)
        return True
