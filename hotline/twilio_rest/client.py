"""twilio's ``Client`` for hotline's own REST requests (calls, queues, conferences, messages).

Credentials come from the environment, as for the webhooks' signatures: ``$TWILIO_ACCOUNT_SID``
and ``$TWILIO_AUTH_TOKEN``. Where the requests go is ``http.py``'s business: Twilio itself, or the
simulator's stand-in that ``$TWILIO_API_URL`` names (replays and tests set it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from twilio.rest import Client

from hotline.errors import ConfigError
from hotline.twilio_rest.http import http_client_from_env

ACCOUNT_SID_ENV = "TWILIO_ACCOUNT_SID"
AUTH_TOKEN_ENV = "TWILIO_AUTH_TOKEN"


def rest_client(environ: Mapping[str, str] | None = None) -> Client:
    """A Client for the account in the environment; a clear error names what is missing."""
    env = os.environ if environ is None else environ
    missing = [name for name in (ACCOUNT_SID_ENV, AUTH_TOKEN_ENV) if not env.get(name)]
    if missing:
        raise ConfigError(
            f"hotline calls Twilio's REST API (agents' calls and transfers, buyers' SMS) and needs "
            f"${' and $'.join(missing)}: set them to your Twilio account's SID and auth token"
        )
    return Client(env[ACCOUNT_SID_ENV], env[AUTH_TOKEN_ENV], http_client=http_client_from_env(env))


EXTENSION = "hotline.twilio_rest"


def init_app(app: Any) -> None:
    """Give ``app`` (a Flask app) a place for its Client, built at its first REST request.

    Built late: an app whose agents never take a call needs no Twilio account at all.
    """
    app.extensions[EXTENSION] = {}


def client_of(app: Any) -> Client:
    """``app``'s Client, built from the environment at first use (ConfigError: what is missing)."""
    kept: dict[str, Client] = app.extensions[EXTENSION]
    if "client" not in kept:
        kept["client"] = rest_client()
    return kept["client"]
