"""versions: an index covering the search for versions not yet judged

Revision ID: 0017
Revises: 0016

Each pass, even one with nothing due, looks for versions with no change row
(its own, and what a stopped pass or import left). On SQLite that scanned the
versions table, reading each row's text to reach first_seen and fetch_id: a
cost that grew with the history (30,000 versions: 128-193 ms a pass, 37-70 ms
with this index).
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_versions_pending", "versions", ["watch_id", "number", "first_seen", "fetch_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_versions_pending", table_name="versions")
