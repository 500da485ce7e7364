"""queue_entries.conference: the opaque conference name of a caller's latest claim

An agent's take picks a conference (``hl-<random>``) in which the agent and the caller talk; the
entry keeps it, so transfers (hold, warm, cold) find the room. Downgrade drops the column.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.add_column(sa.Column("conference", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_column("conference")
