"""outlets: removed, not deleted, so their watches keep their outlet

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outlets") as batch:
        batch.add_column(sa.Column("removed_at", models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # An older Raqib knows no removed outlets: they go, and their watches lose
    # them (foreign keys are off here: the SET NULL is written out).
    removed = "SELECT id FROM outlets WHERE removed_at IS NOT NULL"
    op.execute(sa.text(f"UPDATE watches SET outlet_id = NULL WHERE outlet_id IN ({removed})"))
    op.execute(sa.text("DELETE FROM outlets WHERE removed_at IS NOT NULL"))
    with op.batch_alter_table("outlets") as batch:
        batch.drop_column("removed_at")
