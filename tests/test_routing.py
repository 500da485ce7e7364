"""Which party answers each topic."""

from __future__ import annotations

import pytest

from hotline.rules.routing import Party, Topic, menu_topic, party_for, sub_topic

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
    Topic.WAREHOUSE: Party.WAREHOUSE,
}
# A call's topic -> the main menu's choice and the narrower one.
MENU = {
    Topic.PRODUCT: (Topic.PRODUCT, None),
    Topic.INVOICE: (Topic.PRODUCT, Topic.INVOICE),
    Topic.DEFECT: (Topic.PRODUCT, Topic.DEFECT),
    Topic.WITHDRAWAL: (Topic.PRODUCT, Topic.WITHDRAWAL),
    Topic.PRICE: (Topic.PRODUCT, Topic.PRICE),
    Topic.WAREHOUSE: (Topic.WAREHOUSE, None),
    Topic.ORDER_STATUS: (Topic.WAREHOUSE, Topic.ORDER_STATUS),
    Topic.DELIVERY_PROBLEM: (Topic.WAREHOUSE, Topic.DELIVERY_PROBLEM),
    Topic.CANCELLATION: (Topic.WAREHOUSE, Topic.CANCELLATION),
    Topic.CHANGE: (Topic.WAREHOUSE, Topic.CHANGE),
    Topic.AVAILABILITY: (Topic.WAREHOUSE, Topic.AVAILABILITY),
    Topic.AGENT: (Topic.AGENT, None),
}


@pytest.mark.parametrize(("topic", "expected"), MENU.items(), ids=str)
def test_menu_topic_and_sub_topic(topic: Topic, expected: tuple[Topic, Topic | None]) -> None:
    assert (menu_topic(topic), sub_topic(topic)) == expected
    assert set(MENU) == set(Topic)


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
