"""search: each version's matching key, with FTS5 (SQLite) or a tsvector (PostgreSQL)

The index is filled after each pass (and by `raqib search`), so existing
versions are indexed by the first run after this migration.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raqib.storage import postgres, sqlite

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_search",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_version_search_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_version_search")),
    )
    op.create_index(op.f("ix_version_search_watch_id"), "version_search", ["watch_id"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        sqlite.create_search(bind)
    elif bind.dialect.name == "postgresql":
        postgres.create_search(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS version_search_fts")
    op.drop_index(op.f("ix_version_search_watch_id"), table_name="version_search")
    op.drop_table("version_search")
