"""captures and fetches: where a revisit's original sits (WARC file, offset)

Revision ID: 0011
Revises: 0010

`raqib gc` keeps the file holding the original that a kept revisit refers
to. It found that file by searching fetch rows near the revisit's
WARC-Refers-To-Date, which misses another watch's original (the same page
reached by a redirect) in a busy hour or under a frozen clock. Each URL's
last full capture now keeps where its record sits, and each revisit's fetch
row where its original sat when it was written. Rows from before this
migration have neither, and their originals are searched for as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("captures", sa.Column("file", sa.String(255), nullable=True))
    op.add_column("captures", sa.Column("offset", sa.BigInteger(), nullable=True))
    op.add_column("fetches", sa.Column("refers_file_id", sa.Integer(), nullable=True))
    op.add_column("fetches", sa.Column("refers_offset", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35 and later): a batch rebuild of the fetch log would
    # copy every row of it.
    for table, column in (
        ("fetches", "refers_offset"),
        ("fetches", "refers_file_id"),
        ("captures", '"offset"'),
        ("captures", "file"),
    ):
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
