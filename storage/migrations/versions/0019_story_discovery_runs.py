"""stories: which discovery run holds each story, and when one last started;
candidates: the address each would be watched as

Revision ID: 0019
Revises: 0018

Each daemon runs discovery on its interval: several workers on one database
each read every story's sources and fetched the same candidates, and their
findings raced to create the same watch. A run now takes the stories it
reads (`discovery_until`: held until then, or until it ends), and the
daemon's skips a story another worker read within half its interval
(`discovery_at`: when a run last took it). `discovery_owner` names the run
that holds it, so that one run's end frees only its own.

A candidate judged on its text keeps the address it would be watched as (its
canonical, where it was served), so that `discover --rejudge` watches it
there, not as its source listed it (an AMP page, a redirect).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raqib.storage.models as models

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stories", sa.Column("discovery_owner", sa.String(200), nullable=True))
    op.add_column("stories", sa.Column("discovery_until", models.UTCDateTime(), nullable=True))
    op.add_column("stories", sa.Column("discovery_at", models.UTCDateTime(), nullable=True))
    op.add_column("candidates", sa.Column("address", sa.String(2048), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35 and later, as 0010 and 0018): a batch rebuild of
    # stories would, with foreign keys on, delete every row that refers to one.
    op.drop_column("candidates", "address")
    for column in ("discovery_at", "discovery_until", "discovery_owner"):
        op.drop_column("stories", column)
