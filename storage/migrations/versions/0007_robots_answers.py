"""robots.txt answers kept between passes

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robots_answers",
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("fetched_at", models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_robots_answers")),
    )


def downgrade() -> None:
    op.drop_table("robots_answers")
