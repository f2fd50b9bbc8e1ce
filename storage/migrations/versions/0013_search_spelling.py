"""version_search.spelling: which spelling of the search key made each key

Revision ID: 0013
Revises: 0012

A search reads its words with the running Raqib's key (normalize.arabic.
search_key), so a version keyed by an older spelling could be missed: analyzer
7 reads "ثلاثة آلاف." and a decimal comma as numbers, which the keys already
stored did not. Every key existing before this migration is spelling 0 and is
made again, a pass at a time (storage.search.rekey).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch: SQLite adds a column in place, without copying every key.
    op.add_column(
        "version_search", sa.Column("spelling", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_index(op.f("ix_version_search_spelling"), "version_search", ["spelling"])


def downgrade() -> None:
    op.drop_index(op.f("ix_version_search_spelling"), table_name="version_search")
    with op.batch_alter_table("version_search") as batch:
        batch.drop_column("spelling")
