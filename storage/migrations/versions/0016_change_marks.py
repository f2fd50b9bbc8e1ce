"""changes.marks: which facts a change touched, as bits (1 figures, 2 quotes, 4 negations)

Revision ID: 0016
Revises: 0015

The front page's list of stories showed each article's badges ("figures
changed") from every change's analysis: every analysis of the history read
and decoded on each request (1.8 s of CPU at 8,100 changes). The marks let the
database answer, and `changes --facts` filter in SQL. Changes already stored
get theirs from their analysis here, a page at a time; only those that
touched a fact are written.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# As raqib.domain.fact_marks reads them, kept here as they were at 0016.
_BITS = {"numbers": 1, "quotes": 2, "negations": 4}
_PAGE = 200


def upgrade() -> None:
    # Not a batch: SQLite adds a column in place (a rebuilt table would lose
    # its AUTOINCREMENT, 0008).
    op.add_column("changes", sa.Column("marks", sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    changes = sa.table(
        "changes", sa.column("id", sa.Integer), sa.column("analysis", sa.JSON),
        sa.column("marks", sa.Integer),
    )  # fmt: skip
    last = 0
    while rows := conn.execute(
        sa.select(changes.c.id, changes.c.analysis)
        .where(changes.c.id > last)
        .order_by(changes.c.id)
        .limit(_PAGE)
    ).all():
        last = rows[-1][0]
        marked = [{"i": i, "m": m} for i, a in rows if (m := _marks(a))]
        if marked:
            conn.execute(
                changes.update()
                .where(changes.c.id == sa.bindparam("i"))
                .values(marks=sa.bindparam("m")),
                marked,
            )


def _marks(analysis: Any) -> int:
    if isinstance(analysis, str):  # a driver that hands JSON back as text
        analysis = json.loads(analysis)
    facts = (analysis or {}).get("facts") or {}
    return sum(bit for key, bit in _BITS.items() if isinstance(facts, dict) and facts.get(key))


def downgrade() -> None:
    with op.batch_alter_table("changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("marks")
