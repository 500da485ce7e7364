"""each call_events row carries the call's state after its step; the calls table goes

A webhook used to update the call's ``calls`` row and insert a ``call_events`` row; now it only
appends the event, which holds the call's state, and the call is its latest event. Events keep
their ids; ``(call_sid, seq)`` is unique, ``seq`` counting a call's events from 1 in id order.

Upgrade: every event of a call gets the state its ``calls`` row had (the state after each earlier
step was never kept; the latest event, the one read, is exact); a call row with no event (none is
written that way) becomes one event, step ``migrated``; events of CallSids with no call row keep
no state (NULL). Downgrade: each call's row is its latest event with a state, ``updated_at`` that
event's time; the events keep their ids.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The state columns, as named in the new call_events (``call_step`` is the calls row's ``step``).
STATE = (
    "from_number, to_number, language, started_at, call_step, topic, order_id, seller_id, "
    "question, seller_accepted, dial_status, queue_result, thread_id, outcome"
)
CALL_STATE = STATE.replace("call_step", "step")


def _state_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("call_step", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("seller_accepted", sa.Boolean(), nullable=True),
        sa.Column("dial_status", sa.String(length=32), nullable=True),
        sa.Column("queue_result", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
    ]


def _move_serial(table: str) -> None:
    """PostgreSQL: the ids were given, so the table's serial moves past them (SQLite follows)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    op.create_table(
        "call_events_new",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid", "seq", name="uq_call_events_call_sid_seq"),
    )
    state_of_call = ", ".join(f"c.{name.strip()}" for name in CALL_STATE.split(","))
    op.execute(
        f"INSERT INTO call_events_new (id, call_sid, seq, at, step, input, decision, {STATE}) "
        "SELECT e.id, e.call_sid, ROW_NUMBER() OVER (PARTITION BY e.call_sid ORDER BY e.id), "
        f"e.at, e.step, e.input, e.decision, {state_of_call} "
        "FROM call_events e LEFT JOIN calls c ON c.sid = e.call_sid"
    )
    _move_serial("call_events_new")
    op.execute(
        f"INSERT INTO call_events_new (call_sid, seq, at, step, input, decision, {STATE}) "
        "SELECT c.sid, 1, c.updated_at, 'migrated', NULL, "
        f"'the call as stored before migration 0003', {state_of_call} FROM calls c "
        "WHERE NOT EXISTS (SELECT 1 FROM call_events e WHERE e.call_sid = c.sid)"
    )
    op.drop_table("calls")
    op.drop_index("ix_call_events_call_sid", table_name="call_events")
    op.drop_table("call_events")
    op.rename_table("call_events_new", "call_events")


def downgrade() -> None:
    op.rename_table("call_events", "call_events_new")
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_call_events_call_sid", "call_events", ["call_sid"], unique=False)
    op.create_table(
        "calls",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("seller_accepted", sa.Boolean(), nullable=False),
        sa.Column("dial_status", sa.String(length=32), nullable=True),
        sa.Column("queue_result", sa.String(length=32), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("sid"),
    )
    op.execute(
        "INSERT INTO call_events (id, call_sid, at, step, input, decision) "
        "SELECT id, call_sid, at, step, input, decision FROM call_events_new"
    )
    _move_serial("call_events")
    op.execute(
        f"INSERT INTO calls (sid, updated_at, {CALL_STATE}) "
        f"SELECT call_sid, at, {STATE} FROM call_events_new e "
        "WHERE started_at IS NOT NULL AND seq = (SELECT max(seq) FROM call_events_new l "
        "WHERE l.call_sid = e.call_sid AND l.started_at IS NOT NULL)"
    )
    op.drop_table("call_events_new")
