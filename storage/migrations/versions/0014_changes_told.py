"""changes.told: whether the channels were given the change (queued, or none wanted it)

Revision ID: 0014
Revises: 0013

A pass stored its changes, then queued their messages in a later step: a
pass killed in between (seconds, on a loaded machine) left its changes
stored and untold, and no later pass told them. A change is now stored
untold, and marked told in the transaction that queues its messages; each
pass tells what an earlier one left untold. Changes already stored were
told when they were made, or never will be: they are marked told here.
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
        "changes", sa.Column("told", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(sa.text("UPDATE changes SET told = :t").bindparams(t=True))
    op.create_index(op.f("ix_changes_told"), "changes", ["told"])


def downgrade() -> None:
    op.drop_index(op.f("ix_changes_told"), table_name="changes")
    with op.batch_alter_table("changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("told")
