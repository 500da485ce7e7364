"""transfers.target_call: the CallSid of the call a warm transfer placed to the seller

A warm transfer rings the seller while the caller is held; a caller who hangs up meanwhile
leaves that call to be canceled, so the transfer keeps its SID. Downgrade drops the column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("target_call", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("target_call")
