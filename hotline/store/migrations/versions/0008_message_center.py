"""Message Center: threads' kind, reason, due time, buyer key and combined flag; messages'
author_id; outbox rows per message; the sellers of each order

Old threads come in as ordinary threads ("message"): their call topics become message topics by
the default call-topic table (frozen here as it was shipped), their 24 h mark is their opening
plus 24 h, a transfer's note by "agent" is the warehouse's, and a forward's outbox row
("thread_forwarded_<n>") is a "thread_forwarded" one. A warehouse thread about an order with no
seller gets the order's seller, as the Message Center's are opened: the seller follows it and
it counts in their sales quality. Their buyer key stays NULL until one is issued (nobody could
ever have been given a secret made here). Each order's seller becomes its one row in
order_sellers. Downgrade drops what was added and maps topics and outbox kinds back (the
sellers given to warehouse threads stay: 0007 allowed them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The call topics of hotline/rules/routing.py and the message topic each got in 0008's default
# table (hotline/config/message_center.toml): frozen, as a migration must not move with the code.
CALL_TOPICS = {
    "product": "product_details",
    "invoice": "proof_of_purchase",
    "defect": "product_details",
    "withdrawal": "withdrawal_complaint",
    "price": "lower_price",
    "order_status": "order_preparation",
    "delivery_problem": "delivery_problem",
    "cancellation": "order_return",
    "change": "order_change",
    "availability": "product_availability",
    "agent": "order_preparation",
    # The warehouse menu's own topic, kept by threads opened there before it was narrowed down.
    "warehouse": "order_preparation",
}
# Back: the first call topic of each message topic.
MESSAGE_TOPICS = {v: k for k, v in reversed(CALL_TOPICS.items())}
RESPONSE_HOURS = 24
# Outbox kinds written more than once per thread since 0007.
REPEATED_KINDS = (
    "thread_forwarded",
    "thread_answered",
    "buyer_replied",
    "discussion_opened_elsewhere",
)


def upgrade() -> None:
    op.create_table(
        "order_sellers",
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"]),
        sa.PrimaryKeyConstraint("order_id", "seller_id"),
    )
    op.execute("INSERT INTO order_sellers (order_id, seller_id) SELECT id, seller_id FROM orders")
    # Added in place, not by copying the tables (SQLite's batch mode): threads and their
    # messages are referred to by foreign keys, which a copy-and-drop would break.
    op.add_column(
        "threads",
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="message"),
    )
    op.add_column("threads", sa.Column("reason", sa.String(length=64), nullable=True))
    op.add_column("threads", sa.Column("due_at", sa.DateTime(), nullable=True))
    op.add_column("threads", sa.Column("buyer_key_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "threads",
        sa.Column("combined", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("thread_messages", sa.Column("author_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_message_id_thread_messages", "thread_messages", ["message_id"], ["id"]
        )
        batch.drop_constraint("uq_outbox_kind_thread", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_kind_thread_message", ["kind", "thread_id", "message_id", "recipient"]
        )
    conn = op.get_bind()
    threads = sa.table(
        "threads",
        sa.column("id", sa.Integer()),
        sa.column("topic", sa.String()),
        sa.column("created_at", sa.DateTime()),
        sa.column("due_at", sa.DateTime()),
        sa.column("party", sa.String()),
        sa.column("seller_id", sa.String()),
        sa.column("order_id", sa.String()),
    )
    orders = sa.table("orders", sa.column("id", sa.String()), sa.column("seller_id", sa.String()))
    conn.execute(
        threads.update()
        .where(
            threads.c.party == "warehouse",
            threads.c.seller_id.is_(None),
            threads.c.order_id.is_not(None),
        )
        .values(
            seller_id=sa.select(orders.c.seller_id)
            .where(orders.c.id == threads.c.order_id)
            .scalar_subquery()
        )
    )
    for old, new in CALL_TOPICS.items():
        conn.execute(threads.update().where(threads.c.topic == old).values(topic=new))
    for thread_id, created_at in conn.execute(sa.select(threads.c.id, threads.c.created_at)).all():
        due = created_at + timedelta(hours=RESPONSE_HOURS)
        conn.execute(threads.update().where(threads.c.id == thread_id).values(due_at=due))
    op.execute("UPDATE thread_messages SET author = 'warehouse' WHERE author = 'agent'")
    outbox = sa.table("outbox", sa.column("kind", sa.String()))
    forwarded = outbox.c.kind.startswith("thread_forwarded_", autoescape=True)
    conn.execute(outbox.update().where(forwarded).values(kind="thread_forwarded"))


def downgrade() -> None:
    conn = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("kind", sa.String()))
    # Before 0007 a kind was written once per thread: the repeated ones get their row's id.
    for row_id, kind in conn.execute(
        sa.select(outbox.c.id, outbox.c.kind).where(outbox.c.kind.in_(REPEATED_KINDS))
    ).all():
        conn.execute(
            outbox.update().where(outbox.c.id == row_id).values(kind=f"{kind}_{row_id}"[:32])
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_kind_thread_message", type_="unique")
        batch.drop_constraint("fk_outbox_message_id_thread_messages", type_="foreignkey")
        batch.drop_column("message_id")
        batch.create_unique_constraint("uq_outbox_kind_thread", ["kind", "thread_id"])
    _drop_columns("thread_messages", ["author_id"])
    threads = sa.table("threads", sa.column("topic", sa.String()))
    for new, old in MESSAGE_TOPICS.items():
        conn.execute(threads.update().where(threads.c.topic == new).values(topic=old))
    _drop_columns("threads", ["combined", "buyer_key_hash", "due_at", "reason", "kind"])
    op.drop_table("order_sellers")


def _drop_columns(table: str, columns: list[str]) -> None:
    """Drop ``columns`` in place (SQLite 3.35+ can): the table is referred to by foreign keys."""
    for column in columns:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        else:
            op.drop_column(table, column)
