"""captures: where each URL's last full capture sits (WARC file, offset)

Revision ID: 0011
Revises: 0010

`raqib gc` keeps the file holding the original that a kept revisit refers
to. It found that file by searching fetch rows near the revisit's
WARC-Refers-To-Date, which misses another watch's original (the same page
reached by a redirect) in a busy hour; the capture's own place is exact.
Captures written before this migration have none, and are searched for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.add_column(sa.Column("file", sa.String(255), nullable=True))
        batch.add_column(sa.Column("offset", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("offset")
        batch.drop_column("file")
