"""Access tokens for agents' Twilio Voice SDK clients (a browser or mobile softphone).

An agent rung as a ``client`` receives the hotline's calls in a Voice SDK app that registers
with Twilio under their identity; Twilio lets it register with an access token carrying a Voice
grant that allows incoming calls. The token is signed with an API key of the account
(``$TWILIO_API_KEY``, ``$TWILIO_API_SECRET``), never with the auth token, and lasts an hour
unless asked otherwise (Twilio's limit is 24 h).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from hotline.errors import ConfigError
from hotline.twilio_rest.client import ACCOUNT_SID_ENV

API_KEY_ENV = "TWILIO_API_KEY"
API_SECRET_ENV = "TWILIO_API_SECRET"
DEFAULT_TTL = 3600
LONGEST_TTL = 24 * 3600


def client_token(
    identity: str, ttl: int = DEFAULT_TTL, environ: Mapping[str, str] | None = None
) -> str:
    """A signed access token letting the client ``identity`` receive calls for ``ttl`` seconds."""
    env = os.environ if environ is None else environ
    names = (ACCOUNT_SID_ENV, API_KEY_ENV, API_SECRET_ENV)
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(
            f"an agent's Voice SDK client needs an access token, signed with an API key of the "
            f"account: set ${' and $'.join(missing)} (make a key in Twilio's console)"
        )
    if not 60 <= ttl <= LONGEST_TTL:
        raise ValueError(f"a token lasts 60 to {LONGEST_TTL} seconds, not {ttl}")
    token = AccessToken(
        env[ACCOUNT_SID_ENV], env[API_KEY_ENV], env[API_SECRET_ENV], identity=identity, ttl=ttl
    )
    token.add_grant(VoiceGrant(incoming_allow=True))
    jwt: str = token.to_jwt()
    return jwt
