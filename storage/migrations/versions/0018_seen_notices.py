"""versions: the notices later fetches of a version's text saw

Revision ID: 0018
Revises: 0017

A page's stamp ("آخر تحديث 14:00") can move with no edit, and a silent edit
come later under the moved stamp: judged against the version's own notices,
the moved stamp read as announcing it. Each fetch that finds a version's text
again notes the notices it saw that the version does not hold; the analyzer
reads the stamps among them as the old side's (diffs.signals.is_stamp).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not a batch: a rebuilt table would copy every version's text.
    op.add_column("versions", sa.Column("seen_notices", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("versions", "seen_notices")
