"""The warehouse agents in the configuration (``[[agents]]``): who they are, how the hotline rings
them (a phone number or a Twilio Client identity, exactly one) and the SHA-256 of their token.

The token itself is never in the file: an agent proves who they are by presenting the token whose
hash is here (``hotline.agents.roster`` checks it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.config import values
from hotline.config.reader import Section
from hotline.errors import ConfigError

# The store keeps agent ids in columns of this length (agent states, events, queue entries).
AGENT_ID_MAX = 64
AGENT_NAME_MAX = 200
# Twilio takes Client identities of up to 256 characters; its mobile SDKs only letters, digits
# and the underscore, so that is what an identity here may hold.
CLIENT_IDENTITY_MAX = 256
# An id is part of URLs (/api/agents/<id>): nothing that needs escaping there.
_AGENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CLIENT_IDENTITY = re.compile(r"[A-Za-z0-9_]+")
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Agent:
    """A warehouse agent: ``phone`` (E.164) or ``client`` (a Twilio Client identity) rings them."""

    id: str
    name: str
    token_sha256: str  # lower-case hex
    phone: str | None = None
    client: str | None = None

    @property
    def rings(self) -> str:
        """What the hotline dials to reach the agent: the phone number or ``client:<identity>``."""
        return self.phone if self.phone is not None else f"client:{self.client}"


def agents(root: Section, region: str) -> tuple[Agent, ...]:
    """The ``[[agents]]`` of the configuration, checked (ids and tokens unique)."""
    found = tuple(_agent(section, region) for section in root.table_list("agents"))
    ids = [agent.id for agent in found]
    hashes = [agent.token_sha256 for agent in found]
    for i, agent in enumerate(found):
        if ids.index(agent.id) != i:
            raise ConfigError(f"{root.source}: agents[{i}].id: duplicate agent id {agent.id!r}")
        if hashes.index(agent.token_sha256) != i:
            # A token names its agent (a bearer token alone says who is calling the API).
            raise ConfigError(
                f"{root.source}: agents[{i}].token_sha256: the same token as agent "
                f"{ids[hashes.index(agent.token_sha256)]!r}; give each agent a token of their own"
            )
    return found


def _agent(section: Section, region: str) -> Agent:
    agent_id = section.text("id", longest=AGENT_ID_MAX)
    if not _AGENT_ID.fullmatch(agent_id):
        raise section.fail(
            "id", "letters, digits, '.', '_' or '-' (starting with a letter or digit)", agent_id
        )
    phone = values.phone(section, "phone", region) if "phone" in section.data else None
    client = section.raw("client", None)
    if client is not None and (
        not isinstance(client, str)
        or not _CLIENT_IDENTITY.fullmatch(client)
        or len(client) > CLIENT_IDENTITY_MAX
    ):
        raise section.fail(
            "client",
            f"a Twilio Client identity of letters, digits and '_' "
            f"(at most {CLIENT_IDENTITY_MAX} characters)",
            client,
        )
    if phone is not None and client is not None:
        raise section.fail("client", "either phone or client, not both (how to ring the agent)")
    if phone is None and client is None:
        raise ConfigError(
            f"{section.source}: {section.key('phone')}: missing; expected a phone number like "
            f"+48601100200 or, instead, {section.key('client')} = a Twilio Client identity"
        )
    token_hash = section.text("token_sha256")
    if not SHA256_HEX.fullmatch(token_hash):
        raise section.fail(
            "token_sha256",
            "the SHA-256 of the agent's token as 64 hex digits",
            token_hash,
            secret=True,
        )
    agent = Agent(
        id=agent_id,
        name=section.text("name", longest=AGENT_NAME_MAX),
        token_sha256=token_hash.lower(),
        phone=phone,
        client=client,
    )
    section.finish()
    return agent
