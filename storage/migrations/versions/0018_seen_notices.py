"""versions: the notices later fetches of a version's text saw

Revision ID: 0018
Revises: 0017

A page's stamp ("آخر تحديث 14:00") can move with no edit, and a silent edit
come later under the moved stamp: judged against the version's own notices,
the moved stamp read as announcing it. Each fetch that finds a version's text
again notes the notices it saw that the version does not hold; the analyzer
reads the stamps among them as the old side's (normalize.stamps.is_stamp).

A stamp that moved before this upgrade is in the watch's meta (what the page
said of itself at the last read) and not in its latest version: it is noted
there now, or the next silent edit under it would read as announced (passes
note notices only when they move from the last read's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


MAX_SEEN = 20  # raqib.recording.MAX_SEEN_NOTICES, as it stands here


def upgrade() -> None:
    # In place, not a batch: a rebuilt table would copy every version's text.
    op.add_column("versions", sa.Column("seen_notices", sa.JSON(), nullable=True))
    watches = sa.table(
        "watches", sa.column("id"), sa.column("meta", sa.JSON()), sa.column("version_count")
    )
    versions = sa.table(
        "versions", sa.column("id"), sa.column("watch_id"), sa.column("number"),
        sa.column("notices", sa.JSON()), sa.column("seen_notices", sa.JSON()),
    )  # fmt: skip
    conn = op.get_bind()
    # Streamed (a million watches' rows are not held at once); what to write is few.
    latest = conn.execute(
        sa.select(versions.c.id, versions.c.notices, watches.c.meta)
        .join(
            watches,
            sa.and_(
                watches.c.id == versions.c.watch_id, watches.c.version_count == versions.c.number
            ),
        )
        .where(watches.c.meta.is_not(None))
        .execution_options(yield_per=1000)
    )
    seen = []
    for vid, notices, meta in latest:
        read = (meta or {}).get("notices") if isinstance(meta, dict) else None
        held = set(notices or ())
        new = [n for n in dict.fromkeys(read or ()) if isinstance(n, str) and n not in held]
        if new:
            seen.append({"vid": vid, "seen": new[:MAX_SEEN]})
    update = (
        versions.update()
        .where(versions.c.id == sa.bindparam("vid"))
        .values(seen_notices=sa.bindparam("seen"))
    )
    for i in range(0, len(seen), 1000):
        conn.execute(update, seen[i : i + 1000])


def downgrade() -> None:
    op.drop_column("versions", "seen_notices")
