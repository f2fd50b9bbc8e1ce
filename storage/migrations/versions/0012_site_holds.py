"""site_holds: a host read outside any watch's lease, which no sweep takes meanwhile

Revision ID: 0012
Revises: 0011

One worker at a time fetches a site (0010), counted by the watches' leases.
An outlet's sources (feeds, sitemaps, front pages) are read outside them, so
a worker reading a site's feed while another swept its articles sent it more
than `fetch.per_domain` requests at once. A read now holds its sources' hosts
here until it ends (storage.sharing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_holds",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("until", models.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_holds")
