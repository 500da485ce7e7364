"""outbox delivery: each row's status, tries, next attempt, last error; the scheduler's lease

The outbox gains what its delivery needs (status pending, sending, sent, failed or skipped;
tries; next_attempt_at; last_error; sent_ref, the receiving side's id of what was sent). Rows
already marked sent_at become ``sent``; the others are ``pending`` and will be delivered.
``scheduler_lease`` names who leads the schedulers (on SQLite it is the lease itself).
Downgrade drops them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("tries", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sent_ref", sa.String(length=255), nullable=True))
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("sent_ref", "last_error", "next_attempt_at", "tries", "status"):
            batch.drop_column(column)
