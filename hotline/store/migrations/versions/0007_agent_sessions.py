"""agent_sessions: each agent's console session generation, bumped by a sign-out

The console's session is a signed cookie; it carries the generation it was signed in under, and
a sign-out bumps the agent's generation, so every copy of that cookie is signed out with it.
Downgrade drops the table (every session then stands until it is cleared, as before).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("agent_id", sa.String(length=80), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id"),
    )


def downgrade() -> None:
    op.drop_table("agent_sessions")
