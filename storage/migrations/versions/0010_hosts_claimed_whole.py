"""watches: their host, so that one worker at a time fetches a host

Revision ID: 0010
Revises: 0009

Each watch keeps its URL's host (as Scrapy keys its per-site slots), and the
passes sweeping due watches, or waiting to, are listed (sweepers), so that
they share the hosts (storage.sharing). The index on lease_owner serves the
claims' look at who holds what, and the renewals and releases by owner.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHUNK = 5000


def _host(url: str) -> str:
    # Frozen here, not imported: a later change to raqib.urls must not change this migration.
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=False, server_default=""))
    conn = op.get_bind()
    watches = sa.table("watches", sa.column("id", sa.Integer), sa.column("url"), sa.column("host"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(watches.c.id, watches.c.url)
            .where(watches.c.id > last)
            .order_by(watches.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            break
        conn.execute(
            watches.update().where(watches.c.id == sa.bindparam("wid")),
            [{"wid": wid, "host": _host(url)} for wid, url in rows],
        )
        last = rows[-1][0]
    op.create_index("ix_watches_lease", "watches", ["lease_owner"])
    op.create_table(
        "sweepers",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("until", models.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sweepers")
    op.drop_index("ix_watches_lease", table_name="watches")
    # SQLite drops the column in place (3.35 and later): a batch rebuild would
    # lose AUTOINCREMENT (0008), and with foreign keys on, dropping the old
    # table would delete every row that refers to a watch.
    op.execute(sa.text("ALTER TABLE watches DROP COLUMN host"))
