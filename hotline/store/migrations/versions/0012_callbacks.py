"""callbacks: a buyer's request, made outside the hours, to be called back when the hotline opens

One row per call that asked (unique ``call_sid``): whom to call, from which number, about what,
in which language, when (``due_at``), and how it went (status, attempts, the outbound call's
SID, its last CallStatus, the warehouse's thread when nobody answered). Downgrade drops it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("hotline_number", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("call_ref", sa.String(length=64), nullable=True),
        sa.Column("last_result", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid"),
    )
    op.create_index("ix_callbacks_status_due_at", "callbacks", ["status", "due_at"])
    op.create_index("ix_callbacks_phone_status", "callbacks", ["phone", "status"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_phone_status", table_name="callbacks")
    op.drop_index("ix_callbacks_status_due_at", table_name="callbacks")
    op.drop_table("callbacks")
