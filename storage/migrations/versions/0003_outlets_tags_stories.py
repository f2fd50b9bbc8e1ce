"""outlets and their sources; tags; several stories per watch

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outlets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("retain_days", sa.Integer(), nullable=False),
        sa.Column("added_at", models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlets")),
        sa.UniqueConstraint("name", name=op.f("uq_outlets_name")),
    )
    op.create_table(
        "outlet_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("added_at", models.UTCDateTime(), nullable=False),
        sa.Column("next_check_at", models.UTCDateTime(), nullable=False),
        sa.Column("last_checked_at", models.UTCDateTime(), nullable=True),
        sa.Column("etag", sa.String(length=256), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.String(length=500), nullable=True),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_outlet_sources_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlet_sources")),
        sa.UniqueConstraint("outlet_id", "url", name="uq_outlet_sources_outlet_url"),
    )
    op.create_index(op.f("ix_outlet_sources_outlet_id"), "outlet_sources", ["outlet_id"])
    op.create_table(
        "outlet_seen",
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("seen_at", models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
            name=op.f("fk_outlet_seen_outlet_id_outlets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outlet_id", "url", name=op.f("pk_outlet_seen")),
    )
    op.create_table(
        "watch_stories",
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["watches.id"],
            name=op.f("fk_watch_stories_watch_id_watches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name=op.f("fk_watch_stories_story_id_stories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("watch_id", "story_id", name=op.f("pk_watch_stories")),
    )
    op.create_index(op.f("ix_watch_stories_story_id"), "watch_stories", ["story_id"])
    op.create_table(
        "watch_tags",
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["watch_id"],
            ["watches.id"],
            name=op.f("fk_watch_tags_watch_id_watches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("watch_id", "tag", name=op.f("pk_watch_tags")),
    )
    op.create_index(op.f("ix_watch_tags_tag"), "watch_tags", ["tag"])
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("outlet_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_watches_outlet_id"), ["outlet_id"])
        batch.create_foreign_key(
            batch.f("fk_watches_outlet_id_outlets"),
            "outlets",
            ["outlet_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Every watch's story so far becomes its first story.
    op.execute(
        "INSERT INTO watch_stories (watch_id, story_id) "
        "SELECT id, story_id FROM watches WHERE story_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("watches") as batch:
        batch.drop_constraint(batch.f("fk_watches_outlet_id_outlets"), type_="foreignkey")
        batch.drop_index(batch.f("ix_watches_outlet_id"))
        batch.drop_column("outlet_id")
    for table in ("watch_tags", "watch_stories", "outlet_seen", "outlet_sources", "outlets"):
        op.drop_table(table)
