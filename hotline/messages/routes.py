"""Where a new thread goes: the operator's routing table (config ``[message_center]``) applied to
an order and a topic or Discussion reason, with the combined-order rule.

Pure: no store, no clock. Unknown codes and missing sellers raise ``Invalid`` naming them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.config.message_center import MessageCenter
from hotline.config.settings import Order
from hotline.errors import Invalid
from hotline.rules.routing import Party


@dataclass(frozen=True)
class Route:
    """Where a thread goes: the assignee, the seller of record, and the sellers only told."""

    kind: str  # "message" | "discussion"
    party: Party
    seller_id: str | None  # None: a combined order's delivery Discussion (no seller sees it)
    combined: bool
    told: tuple[str, ...] = ()  # sellers told that a Discussion was opened elsewhere


def party_of_topic(routing: MessageCenter, topic: str) -> Party:
    """The party that answers message topic ``topic``; ``Invalid`` naming it when unknown."""
    if topic not in routing.topics:
        raise Invalid(f"unknown topic {topic!r}; expected one of: {', '.join(routing.topics)}")
    return routing.topics[topic]


def party_of_reason(routing: MessageCenter, reason: str) -> Party:
    """The party that answers Discussion reason ``reason``; ``Invalid`` naming it when unknown."""
    if reason not in routing.reasons:
        raise Invalid(f"unknown reason {reason!r}; expected one of: {', '.join(routing.reasons)}")
    return routing.reasons[reason].party


def route(
    routing: MessageCenter,
    order: Order,
    *,
    topic: str | None = None,
    reason: str | None = None,
    seller: str | None = None,
) -> Route:
    """Route a thread about ``order`` with ``topic`` (a message) or ``reason`` (a Discussion).

    On a combined order ``seller`` picks which seller's items it is about: needed when the
    seller answers; a delivery-problem Discussion goes to the warehouse with no seller at all.
    """
    if (topic is None) == (reason is None):
        raise Invalid('give either "topic" (a message) or "reason" (a Discussion), not both')
    if reason is not None:
        kind, party = "discussion", party_of_reason(routing, reason)
    else:
        assert topic is not None
        kind, party = "message", party_of_topic(routing, topic)
    if seller is not None and seller not in order.sellers:
        raise Invalid(
            f"seller {seller!r} has no items in order {order.id}; its sellers: "
            f"{', '.join(order.sellers)}"
        )
    if not order.combined:
        return Route(kind, party, order.seller, combined=False)
    if reason is not None and routing.reasons[reason].delivery:
        return Route(kind, Party.WAREHOUSE, None, combined=True, told=order.sellers)
    if party is Party.SELLER and seller is None:
        raise Invalid(
            f'order {order.id} has items from several sellers: say which in "seller" '
            f"({', '.join(order.sellers)})"
        )
    # A warehouse Discussion about none of the sellers' items in particular: each is told.
    told = order.sellers if reason is not None and seller is None else ()
    return Route(kind, party, seller, combined=True, told=told)
