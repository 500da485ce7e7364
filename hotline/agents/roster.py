"""The agents of the configuration, and their tokens: who presents which token.

An agent's token is their one credential, for the API (``Authorization: Bearer <token>``) and the
console's login (agent id and token). The configuration holds only its SHA-256
(``[[agents]] token_sha256``); a token is checked by hashing it and comparing the digests in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hotline.config.agents import Agent
from hotline.config.settings import Settings

# The token of the shipped config.toml's demo agent: `make run` prints it, and any agent still
# holding it is announced as a demo login at start-up.
DEMO_TOKEN = "demo-agent-token"


def token_digest(token: str) -> str:
    """The SHA-256 of ``token`` as the configuration writes it (lower-case hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Roster:
    """The configured agents by id, in the configuration's order."""

    agents: Mapping[str, Agent]

    @classmethod
    def from_settings(cls, settings: Settings) -> Roster:
        """The agents of ``settings``."""
        return cls(MappingProxyType({agent.id: agent for agent in settings.agents}))

    def get(self, agent_id: str) -> Agent | None:
        """The agent with this id, if configured."""
        return self.agents.get(agent_id)

    def holder_of(self, token: str) -> Agent | None:
        """The agent whose token ``token`` is (``None``: nobody's)."""
        if not token:
            return None
        offered = token_digest(token).encode()
        found = None
        for agent in self.agents.values():  # every digest compared: the time says nothing
            if hmac.compare_digest(offered, agent.token_sha256.encode()):
                found = agent
        return found

    def check(self, agent_id: str, token: str) -> Agent | None:
        """The agent ``agent_id`` if ``token`` is theirs (the console's login)."""
        agent = self.holder_of(token)
        return agent if agent is not None and agent.id == agent_id else None

    def with_demo_token(self) -> list[Agent]:
        """The agents whose token is still the shipped demo token (for one's own machine only)."""
        demo = token_digest(DEMO_TOKEN)
        return [a for a in self.agents.values() if a.token_sha256 == demo]
