"""The Message Center's routing table against the operator's table in issue 10: every topic and
every reason, parametrized over the codes written here (not over the config), so neither the
shipped config.toml nor the packaged default can drift from it silently. And the combined-order
rule."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from hotline.config.message_center import MessageCenter, default_data
from hotline.config.settings import Order, load_settings
from hotline.errors import ConfigError, Invalid
from hotline.messages.routes import Route, route
from hotline.rules.routing import Party, Topic, party_for
from tests.conftest import ROOT, shipped_config

S, W = Party.SELLER, Party.WAREHOUSE
TOPICS = {
    "product_details": S,
    "proof_of_purchase": S,
    "withdrawal_complaint": S,
    "lower_price": S,
    "order_preparation": W,
    "order_change": W,
    "delivery_problem": W,
    "order_return": W,
    "product_availability": W,
    "expiry_date": W,
}
REASONS = {  # code: (party, a delivery problem)
    "not_received": (W, True),
    "incomplete_no_product": (W, True),
    "damaged_in_transport": (W, True),
    "damaged_product_parcel_intact": (W, True),
    "no_refund_after_return": (W, False),
    "no_refund_after_cancellation": (W, False),
    "withdrawal_or_cancellation_problem": (W, False),
    "incomplete_no_proof_of_purchase": (S, False),
    "missing_product_element": (S, False),
    "defect_during_use": (S, False),
    "not_as_described": (S, False),
}
ONE_SELLER = Order(id="1234567", seller="acme", buyer_phone="+48601100200")
COMBINED = Order(
    id="6789012", seller="acme", buyer_phone="+48601900100", sellers=("acme", "greenleaf")
)


def _without_section() -> dict[str, Any]:
    config = shipped_config()
    del config["message_center"]
    return config


ROUTINGS = {
    "config.toml": lambda: load_settings(ROOT / "config.toml").routing,
    "packaged default": lambda: load_settings(_without_section()).routing,
}


@pytest.fixture(params=sorted(ROUTINGS))
def routing(request: pytest.FixtureRequest) -> MessageCenter:
    """The shipped config's routing, then the packaged default's (a config without it)."""
    center: MessageCenter = ROUTINGS[request.param]()
    return center


def test_the_tables_hold_exactly_the_issues_codes(routing: MessageCenter) -> None:
    assert set(routing.topics) == set(TOPICS)
    assert set(routing.reasons) == set(REASONS)
    assert (routing.response_hours, routing.sales_quality_window_days) == (24, 30)


def test_config_toml_holds_a_copy_of_the_packaged_default() -> None:
    with (ROOT / "config.toml").open("rb") as fh:
        assert tomllib.load(fh)["message_center"] == default_data()


@pytest.mark.parametrize(("topic", "party"), sorted(TOPICS.items()))
def test_every_topic_goes_to_its_party(routing: MessageCenter, topic: str, party: Party) -> None:
    assert route(routing, ONE_SELLER, topic=topic) == Route("message", party, "acme", False)


@pytest.mark.parametrize(("reason", "expected"), sorted(REASONS.items()))
def test_every_reason_goes_to_its_party(
    routing: MessageCenter, reason: str, expected: tuple[Party, bool]
) -> None:
    party, delivery = expected
    assert routing.reasons[reason].delivery is delivery
    assert route(routing, ONE_SELLER, reason=reason) == Route("discussion", party, "acme", False)


@pytest.mark.parametrize(("reason", "expected"), sorted(REASONS.items()))
def test_combined_orders_delivery_discussions_go_to_the_warehouse_unseen_by_sellers(
    routing: MessageCenter, reason: str, expected: tuple[Party, bool]
) -> None:
    party, delivery = expected
    if delivery:
        assert route(routing, COMBINED, reason=reason) == Route(
            "discussion", W, None, True, told=("acme", "greenleaf")
        )
    elif party is S:
        with pytest.raises(Invalid, match=r'say which in "seller" \(acme, greenleaf\)'):
            route(routing, COMBINED, reason=reason)
        found = route(routing, COMBINED, reason=reason, seller="greenleaf")
        assert found == Route("discussion", S, "greenleaf", True)
    else:  # about none of the sellers' items in particular: each is told, as of a delivery one
        assert route(routing, COMBINED, reason=reason) == Route(
            "discussion", W, None, True, told=("acme", "greenleaf")
        )


@pytest.mark.parametrize("call_topic", list(Topic))
def test_every_call_topic_has_a_message_topic_of_the_same_party(
    routing: MessageCenter, call_topic: Topic
) -> None:
    assert TOPICS[routing.topic_for_call(call_topic.value)] is party_for(call_topic)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"topic": "nope"}, "unknown topic 'nope'; expected one of: product_details"),
        ({"reason": "nope"}, "unknown reason 'nope'; expected one of: not_received"),
        ({}, 'give either "topic"'),
        ({"topic": "lower_price", "reason": "not_received"}, 'give either "topic"'),
        ({"topic": "lower_price", "seller": "bookworm"}, "seller 'bookworm' has no items"),
    ],
)
def test_unknown_codes_are_named(
    routing: MessageCenter, kwargs: dict[str, str], error: str
) -> None:
    with pytest.raises(Invalid, match=error.replace("(", r"\(")):
        route(routing, ONE_SELLER, **kwargs)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"topics": {"product_details": "buyer"}},
            'message_center.topics.product_details: expected "seller" or "warehouse"',
        ),
        (
            {"topics": {"Bad-Code": "seller"}},
            "message_center.topics.Bad-Code: expected a snake_case code",
        ),
        (
            {"reasons": {"not_received": {"party": "nobody"}}},
            "message_center.reasons.not_received.party: expected",
        ),
        (
            {"reasons": {"not_received": {"party": "warehouse", "delivery": "yes"}}},
            "message_center.reasons.not_received.delivery: expected true or false",
        ),
        (
            {"reasons": {"not_received": {"party": "warehouse", "urgent": True}}},
            "message_center.reasons.not_received.urgent: unknown key",
        ),
        (
            {"call_topics": {"product": "nope"}},
            "message_center.call_topics.product: expected one of the message topics",
        ),
        (
            {"call_topics": {"product": "order_change"}},
            "message_center.call_topics.product: expected a message topic the seller answers",
        ),
        ({"response_hours": 0}, "message_center.response_hours: expected a whole number"),
        ({"colour": "red"}, "message_center.colour: unknown key"),
    ],
)
def test_a_bad_routing_table_names_the_key(change: dict[str, Any], error: str) -> None:
    config = shipped_config()
    section = config["message_center"]
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(section.get(key), dict):
            section[key] = {**section[key], **value}
        else:
            section[key] = value
    with pytest.raises(ConfigError, match=error.replace("(", r"\(")):
        load_settings(config)


@pytest.mark.parametrize(
    ("orders", "error"),
    [
        (
            [{"id": "1", "seller": "acme", "sellers": ["acme"], "buyer_phone": "+48601100200"}],
            "orders[0].sellers: expected either seller or sellers",
        ),
        (
            [{"id": "1", "sellers": [], "buyer_phone": "+48601100200"}],
            "orders[0].sellers: expected a list of different seller ids",
        ),
        (
            [{"id": "1", "sellers": ["acme", "acme"], "buyer_phone": "+48601100200"}],
            "orders[0].sellers: expected a list of different",
        ),
        (
            [{"id": "1", "sellers": ["acme", "nobody"], "buyer_phone": "+48601100200"}],
            "orders[0].sellers: expected one of the sellers' ids",
        ),
        ([{"id": "1", "buyer_phone": "+48601100200"}], "orders[0].seller: missing"),
    ],
)
def test_order_sellers_are_checked(orders: list[dict[str, Any]], error: str) -> None:
    config = shipped_config()
    config["orders"] = orders
    with pytest.raises(ConfigError, match=error.replace("(", r"\(").replace("[", r"\[")):
        load_settings(config)


def test_seller_tokens_are_checked() -> None:
    config = shipped_config()
    config["sellers"][1]["token_sha256"] = "my-plain-seller-token"  # the token, not its hash
    expected = r"sellers\[1\].token_sha256: expected the SHA-256"
    with pytest.raises(ConfigError, match=expected) as bad:
        load_settings(config)
    assert "my-plain-seller-token" not in str(bad.value)
    assert str(bad.value).endswith("got 21 characters (not shown)")
    config["sellers"][1]["token_sha256"] = config["agents"][0]["token_sha256"]
    with pytest.raises(ConfigError, match=r"sellers\[1\].token_sha256: the same token as agent"):
        load_settings(config)
    config["sellers"][1]["token_sha256"] = config["sellers"][0]["token_sha256"]
    with pytest.raises(ConfigError, match=r"the same token as seller 'acme'"):
        load_settings(config)
