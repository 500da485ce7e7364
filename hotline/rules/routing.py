"""Which party answers a buyer's subject: the seller or the warehouse agents.

The table follows the operator's help page: questions only the seller can answer go to the seller;
order status, dispatch, delivery, cancellation, returns, parcel problems and availability go to the
warehouse. Flows tag each menu option with one of these topics.

The main menu offers three subjects (product, warehouse, agent); the warehouse menu behind it
narrows the subject down. A call keeps the narrowest topic it chose; ``menu_topic`` and
``sub_topic`` read the main-menu choice and the narrower one back from it.
"""

from __future__ import annotations

from enum import StrEnum


class Party(StrEnum):
    """Who answers a subject."""

    SELLER = "seller"
    WAREHOUSE = "warehouse"


class Topic(StrEnum):
    """Subjects a buyer calls or writes about."""

    PRODUCT = "product"  # product details and specification
    INVOICE = "invoice"  # proof of purchase, invoice
    DEFECT = "defect"  # complaint about a defect
    WITHDRAWAL = "withdrawal"
    PRICE = "price"  # a lower price
    ORDER_STATUS = "order_status"  # order status, dispatch and delivery time
    DELIVERY_PROBLEM = "delivery_problem"  # dispatch/delivery problems, damaged/incomplete/missing
    CANCELLATION = "cancellation"  # cancellation or return, refunds
    CHANGE = "change"  # change of delivery address, option or phone
    AVAILABILITY = "availability"  # product availability and expiry dates
    AGENT = "agent"  # the caller asked for a person
    WAREHOUSE = "warehouse"  # the warehouse topics, not yet narrowed down


ROUTES: dict[Topic, Party] = {
    Topic.PRODUCT: Party.SELLER,
    Topic.INVOICE: Party.SELLER,
    Topic.DEFECT: Party.SELLER,
    Topic.WITHDRAWAL: Party.SELLER,
    Topic.PRICE: Party.SELLER,
    Topic.ORDER_STATUS: Party.WAREHOUSE,
    Topic.DELIVERY_PROBLEM: Party.WAREHOUSE,
    Topic.CANCELLATION: Party.WAREHOUSE,
    Topic.CHANGE: Party.WAREHOUSE,
    Topic.AVAILABILITY: Party.WAREHOUSE,
    Topic.AGENT: Party.WAREHOUSE,
    Topic.WAREHOUSE: Party.WAREHOUSE,
}
# The main menu's subjects: each other topic is a narrower one of these (by the party answering it).
MENU_TOPICS = (Topic.PRODUCT, Topic.WAREHOUSE, Topic.AGENT)


def party_for(topic: Topic) -> Party:
    """The party that answers ``topic``."""
    return ROUTES[topic]


def menu_topic(topic: Topic) -> Topic:
    """The main-menu subject ``topic`` belongs to: product, warehouse or agent."""
    if topic in MENU_TOPICS:
        return topic
    return Topic.PRODUCT if party_for(topic) is Party.SELLER else Topic.WAREHOUSE


def sub_topic(topic: Topic) -> Topic | None:
    """The narrower subject within the main-menu one (order_status...), if the call chose one."""
    return None if topic in MENU_TOPICS else topic
