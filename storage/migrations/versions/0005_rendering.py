"""rendered fetches: per-watch render and screenshot flags, one screenshot per version

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.add_column(
            sa.Column("render", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("screenshots", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "screenshots",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_screenshots_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_screenshots")),
    )
    op.create_index(op.f("ix_screenshots_watch_id"), "screenshots", ["watch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_screenshots_watch_id"), table_name="screenshots")
    op.drop_table("screenshots")
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("screenshots")
        batch.drop_column("render")
