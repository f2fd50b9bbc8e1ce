"""SQLite: watch and change ids are never given out again

Revision ID: 0008
Revises: 0007

Without AUTOINCREMENT, SQLite gives a new row the highest id plus one, so
after `unwatch --purge` removed the newest watch or change, the next one took
its id, and an Atom entry, a report page or a message id named another
article than before. AUTOINCREMENT needs the table rebuilt; storage.migrate
runs this with foreign keys off, so dropping the old table cascades nothing.
PostgreSQL's sequences never reuse ids: nothing to do there.
"""

from __future__ import annotations

from alembic import op

from raqib.storage import sqlite

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("watches", "changes")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    if sqlite.foreign_keys_on(op.get_bind()):
        raise RuntimeError(
            "0008 rebuilds tables: run it with foreign keys off, as storage.migrate does"
        )
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
