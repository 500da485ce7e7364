"""threads: the overdue mark (overdue_at), the first response's time (answered_at), the latest
forward's time (forwarded_at)

``overdue_at`` is set once by the scheduler's ``reminders`` job when a thread passes its 24 h mark
without a response (a later response does not clear it). ``answered_at`` is when the seller or
the warehouse first responded: old threads get it from their messages here, new ones when the
response is written. ``forwarded_at`` is the latest forward (NULL for old threads: their reminder
points are long past), so a reminder point passed before a forward is not sent to the new
assignee. With both, the job reads only the threads still in their first 24 hours or
awaiting their mark, not every thread ever opened. Downgrade drops both.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


COLUMNS = ("overdue_at", "answered_at", "forwarded_at")


def upgrade() -> None:
    # In place, not in batch: SQLite's batch copies the table, which foreign keys refer to.
    for column in COLUMNS:
        op.add_column("threads", sa.Column(column, sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE threads SET answered_at = ("
        " SELECT MIN(m.created_at) FROM thread_messages m"
        " WHERE m.thread_id = threads.id AND m.kind = 'message'"
        " AND m.author IN ('seller', 'warehouse'))"
    )


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+ drops a column in place
            op.execute(f'ALTER TABLE "threads" DROP COLUMN "{column}"')
        else:
            op.drop_column("threads", column)
