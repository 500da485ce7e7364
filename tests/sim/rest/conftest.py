"""Fixtures for the REST stand-in: a switchboard double, the stand-in over it, twilio's Client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from hotline.sim.rest.api import create_rest_app
from hotline.twilio_rest.http import InProcessHttpClient
from tests.sim.rest.switchboard_double import ACCOUNT_SID, SwitchboardDouble

AUTH_TOKEN = "rest-stand-in-token"


@pytest.fixture
def board() -> SwitchboardDouble:
    """The engine's side of the contract, as an in-memory test double."""
    return SwitchboardDouble()


@pytest.fixture
def rest_app(board: SwitchboardDouble) -> Flask:
    """The REST stand-in over the double."""
    return create_rest_app(board, AUTH_TOKEN)


@pytest.fixture
def client(rest_app: Flask) -> Client:
    """twilio's own Client, reaching the stand-in in process."""
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=InProcessHttpClient(rest_app))


def refusal(action: Callable[[], object]) -> TwilioRestException:
    """The ``TwilioRestException`` twilio's Client raised for ``action`` (which must fail)."""
    with pytest.raises(TwilioRestException) as caught:
        action()
    return caught.value
