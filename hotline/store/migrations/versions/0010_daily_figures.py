"""daily figures: each local day's queue and sales-quality figures, rolled up once it is over

``daily_figures`` holds one row per (day, kind, subject): the queue figures of a queue, the
sales quality of a seller or the warehouse alone, as JSON, when computed, and when the day's
call rows were pruned. Downgrade drops it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "kind", "subject", name="uq_daily_figures_day_kind_subject"),
    )


def downgrade() -> None:
    op.drop_table("daily_figures")
