"""changes.untold: a pass's change whose messages are not queued yet

Revision ID: 0014
Revises: 0013

A pass stored its changes, then queued their messages in a later step: a
pass killed in between (seconds, on a loaded machine) left its changes
stored and never told. A pass's change is now stored untold, and marked
told in the transaction that queues its messages; each pass tells what an
earlier one left untold. Changes already stored were told when they were
made, or never will be: the column's default, false, says so without
writing a row (an UPDATE of every change would copy the table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch: SQLite adds a column in place, and a table rebuilt here
    # would lose its AUTOINCREMENT (0008).
    op.add_column(
        "changes", sa.Column("untold", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index(op.f("ix_changes_untold"), "changes", ["untold"])


def downgrade() -> None:
    op.drop_index(op.f("ix_changes_untold"), table_name="changes")
    with op.batch_alter_table("changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("untold")
