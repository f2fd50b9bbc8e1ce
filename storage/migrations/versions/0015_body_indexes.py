"""indexes on versions.raw_hash and blobs.base: what gc asks of each body it removes

Revision ID: 0015
Revises: 0014

Removing a page body, the database checks that no version refers to it (the
foreign key) and gc that no delta is made against it: without these indexes
each was a scan of every version, text included. Six months of 3,000 watches
(11,100 versions) took 183 s to remove 7,350 bodies, every pass waiting.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_versions_raw_hash"), "versions", ["raw_hash"])
    op.create_index(op.f("ix_blobs_base"), "blobs", ["base"])


def downgrade() -> None:
    op.drop_index(op.f("ix_blobs_base"), table_name="blobs")
    op.drop_index(op.f("ix_versions_raw_hash"), table_name="versions")
