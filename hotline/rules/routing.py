"""Which party answers a buyer's subject: the seller or the warehouse agents.

The table follows the operator's help page: questions only the seller can answer go to the seller;
order status, dispatch, delivery, cancellation, returns, parcel problems and availability go to the
warehouse. Flows tag each menu option with one of these topics.
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
}


def party_for(topic: Topic) -> Party:
    """The party that answers ``topic``."""
    return ROUTES[topic]
