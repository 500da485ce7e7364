"""The roster (``hotline.agents.roster``): the configured agents, and whose token is whose."""

from __future__ import annotations

import hashlib

import pytest

from hotline.agents.roster import DEMO_TOKEN, Roster, token_digest
from hotline.config.settings import load_settings
from tests.conftest import ROOT, shipped_config


@pytest.fixture
def roster() -> Roster:
    data = shipped_config()
    data["agents"] = [
        {"id": "anna", "name": "Anna", "client": "anna", "token_sha256": token_digest("a-token")},
        {
            "id": "ben",
            "name": "Ben",
            "phone": "+48601100901",
            "token_sha256": token_digest("b-token"),
        },
    ]
    return Roster.from_settings(load_settings(data))


def test_the_digest_is_the_sha256_hex_of_the_utf8_token() -> None:
    assert token_digest("zażółć") == hashlib.sha256("zażółć".encode()).hexdigest()


@pytest.mark.parametrize(
    ("token", "holder"),
    [
        ("a-token", "anna"),
        ("b-token", "ben"),
        ("", None),
        ("a-token ", None),
        ("A-TOKEN", None),
        (token_digest("a-token"), None),  # the hash itself is no token
        ("zażółć", None),
    ],
)
def test_holder_of_a_token(roster: Roster, token: str, holder: str | None) -> None:
    found = roster.holder_of(token)
    assert (found.id if found else None) == holder


@pytest.mark.parametrize(
    ("agent_id", "token", "ok"),
    [
        ("anna", "a-token", True),
        ("anna", "b-token", False),  # ben's token does not log anna in
        ("ben", "b-token", True),
        ("carl", "a-token", False),
        ("anna", "", False),
    ],
)
def test_check_a_login(roster: Roster, agent_id: str, token: str, ok: bool) -> None:
    assert (roster.check(agent_id, token) is not None) is ok


def test_agents_in_config_order_and_by_id(roster: Roster) -> None:
    assert list(roster.agents) == ["anna", "ben"]
    ben = roster.get("ben")
    assert ben is not None and ben.rings == "+48601100901"
    assert roster.get("carl") is None
    assert roster.with_demo_token() == []


def test_the_shipped_demo_agent_holds_the_demo_token() -> None:
    shipped = Roster.from_settings(load_settings(ROOT / "config.toml"))
    assert [a.id for a in shipped.with_demo_token()] == ["demo"]
    assert shipped.check("demo", DEMO_TOKEN) is not None
