"""call_events.decision holds the whole trail of a webhook's steps (no length limit)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_events") as batch_op:
        batch_op.alter_column(
            "decision",
            existing_type=sa.String(length=200),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("call_events") as batch_op:
        batch_op.alter_column(
            "decision",
            existing_type=sa.Text(),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
