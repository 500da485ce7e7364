"""Which party answers each topic."""

from __future__ import annotations

import pytest

from hotline.rules.routing import Party, Topic, party_for

EXPECTED = {
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


@pytest.mark.parametrize(("topic", "party"), EXPECTED.items(), ids=str)
def test_party_for(topic: Topic, party: Party) -> None:
    assert party_for(topic) is party


def test_table_covers_every_topic() -> None:
    assert set(EXPECTED) == set(Topic)


@pytest.mark.parametrize(
    ("value", "party"),
    [("product", Party.SELLER), ("order_status", Party.WAREHOUSE), ("agent", Party.WAREHOUSE)],
)
def test_party_for_topic_read_from_text(value: str, party: Party) -> None:
    assert party_for(Topic(value)) is party
