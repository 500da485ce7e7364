"""The agents in the configuration: ``[[agents]]`` and the agents' settings under ``[calls]``."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from hotline.config.agents import AGENT_ID_MAX, AGENT_NAME_MAX, Agent
from hotline.config.settings import load_settings
from hotline.config.values import DATABASE_URL_ENV
from hotline.errors import ConfigError
from hotline.store.models import AgentStateRow, QueueEntryRow
from tests.conftest import ROOT, shipped_config

SOURCE = "<config mapping>"
HASH_A = hashlib.sha256(b"token-a").hexdigest()
HASH_B = hashlib.sha256(b"token-b").hexdigest()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def _with_agents(*agents: dict[str, Any], **calls: Any) -> dict[str, Any]:
    data = shipped_config()
    data["agents"] = list(agents)
    data["calls"].update(calls)
    return data


def test_the_shipped_config_has_one_demo_agent_rung_as_a_client() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.agents == (
        Agent(
            id="demo",
            name="Demo Agent",
            token_sha256=hashlib.sha256(b"demo-agent-token").hexdigest(),
            client="demo_agent",
        ),
    )
    assert settings.agents[0].rings == "client:demo_agent"
    assert (settings.wrap_up_seconds, settings.service_level_seconds) == (60, 30)


def test_defaults_without_agents() -> None:
    settings = load_settings({})
    assert settings.agents == ()
    assert (settings.wrap_up_seconds, settings.service_level_seconds) == (60, 30)


def test_an_agent_with_a_phone_is_rung_at_its_e164_form_and_hashes_are_lower_case() -> None:
    agent = {"id": "anna.k", "name": "Anna", "phone": "601 100 900", "token_sha256": HASH_A.upper()}
    [read] = load_settings(_with_agents(agent)).agents
    assert (read.phone, read.client, read.rings) == ("+48601100900", None, "+48601100900")
    assert read.token_sha256 == HASH_A


def test_wrap_up_zero_means_until_the_agent_is_ready() -> None:
    assert load_settings(_with_agents(wrap_up_seconds=0)).wrap_up_seconds == 0


GOOD = {"id": "anna", "name": "Anna", "client": "anna", "token_sha256": HASH_A}
OTHER = {"id": "ben", "name": "Ben", "phone": "+48601100901", "token_sha256": HASH_B}


@pytest.mark.parametrize(
    ("agents", "calls", "message"),
    [
        pytest.param(
            [{**GOOD, "phone": "+48601100900"}],
            {},
            "agents[0].client: expected either phone or client, not both (how to ring the agent)",
            id="phone-and-client",
        ),
        pytest.param(
            [{k: v for k, v in GOOD.items() if k != "client"}],
            {},
            "agents[0].phone: missing; expected a phone number like +48601100200 or, instead, "
            "agents[0].client = a Twilio Client identity",
            id="neither-phone-nor-client",
        ),
        pytest.param(
            [{**GOOD, "client": "anna-k"}],
            {},
            "agents[0].client: expected a Twilio Client identity of letters, digits and '_' "
            "(at most 256 characters), got 'anna-k'",
            id="client-with-a-dash",
        ),
        pytest.param(
            [{**GOOD, "client": 7}],
            {},
            "agents[0].client: expected a Twilio Client identity of letters, digits and '_' "
            "(at most 256 characters), got 7",
            id="client-not-a-string",
        ),
        pytest.param(
            [{**{k: v for k, v in GOOD.items() if k != "client"}, "phone": "call me"}],
            {},
            "agents[0].phone: expected a phone number like +48601100200, got 'call me'",
            id="bad-phone",
        ),
        pytest.param(
            # The token itself pasted in its hash's place: not repeated in the error.
            [{**GOOD, "token_sha256": "my-plain-agent-token"}],
            {},
            "agents[0].token_sha256: expected the SHA-256 of the agent's token as 64 hex digits, "
            "got 20 characters (not shown)",
            id="token-not-a-hash",
        ),
        pytest.param(
            [{k: v for k, v in GOOD.items() if k != "token_sha256"}],
            {},
            "agents[0].token_sha256: missing; expected a string",
            id="no-token",
        ),
        pytest.param(
            [{**GOOD, "id": "anna/k"}],
            {},
            "agents[0].id: expected letters, digits, '.', '_' or '-' (starting with a letter or "
            "digit), got 'anna/k'",
            id="id-with-a-slash",
        ),
        pytest.param(
            [{**GOOD, "id": "a" * (AGENT_ID_MAX + 1)}],
            {},
            f"agents[0].id: expected a non-empty string of at most {AGENT_ID_MAX} characters, "
            f"got '{'a' * (AGENT_ID_MAX + 1)}'",
            id="id-too-long",
        ),
        pytest.param(
            [{**GOOD, "name": ""}],
            {},
            f"agents[0].name: expected a non-empty string of at most {AGENT_NAME_MAX} "
            "characters, got ''",
            id="empty-name",
        ),
        pytest.param(
            [{**GOOD, "password": "x"}],
            {},
            "agents[0].password: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            [GOOD, {**OTHER, "id": "anna"}],
            {},
            "agents[1].id: duplicate agent id 'anna'",
            id="duplicate-id",
        ),
        pytest.param(
            [GOOD, {**OTHER, "token_sha256": HASH_A}],
            {},
            "agents[1].token_sha256: the same token as agent 'anna'; give each agent a token "
            "of their own",
            id="shared-token",
        ),
        pytest.param(
            [],
            {"wrap_up_seconds": -1},
            "calls.wrap_up_seconds: expected a whole number from 0 to 3600, got -1",
            id="negative-wrap-up",
        ),
        pytest.param(
            [],
            {"service_level_seconds": 0},
            "calls.service_level_seconds: expected a whole number from 1 to 3600, got 0",
            id="zero-service-level",
        ),
    ],
)
def test_bad_agents_name_the_key(
    agents: list[dict[str, Any]], calls: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_with_agents(*agents, **calls))
    assert str(caught.value) == f"{SOURCE}: {message}"


def test_agents_must_be_a_list_of_tables() -> None:
    data = shipped_config()
    data["agents"] = {"id": "anna"}
    with pytest.raises(ConfigError, match=r"agents: expected a list of tables \(\[\[agents\]\]\)"):
        load_settings(data)


def test_the_agent_id_limit_matches_the_store() -> None:
    assert AgentStateRow.__table__.c.agent_id.type.length == AGENT_ID_MAX
    assert QueueEntryRow.__table__.c.taken_by.type.length == AGENT_ID_MAX
