"""pytest plugin: the ``dial`` fixture, to write call tests in Python with the simulator's engine.

A test writes the call step by step (``call.hears(...)``, ``call.press(...)``...), and other
calls of the same session with ``call.party(...)``; each check replays the session written so
far and raises at the test line that wrote it (``call_builder.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from hotline.sim.frontends.call_builder import Dialled, PartyCall, PhoneCall
from hotline.sim.model import QueueBehaviour
from hotline.twilio_rest.client import ACCOUNT_SID_ENV
from hotline.twilio_rest.http import API_URL_VARIABLE

if TYPE_CHECKING:
    from hotline.sim.run.connection import Target

__all__ = ["PartyCall", "PhoneCall", "dial", "hotline_sim_target", "pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini keys that say which app ``dial`` calls."""
    parser.addini("hotline_sim_app", "module:factory of the WSGI app `dial` calls", default="")
    parser.addini(
        "hotline_sim_config", "hotline config file `dial` builds the app from", default=""
    )


@pytest.fixture
def hotline_sim_target(pytestconfig: pytest.Config) -> Target:
    """Which app ``dial`` calls: ini ``hotline_sim_app``, else hotline from ``hotline_sim_config``.

    Override this fixture in a conftest.py to call another app (``Target(app=..., url=...)``).
    """
    from hotline.sim.run.connection import Target

    app = str(pytestconfig.getini("hotline_sim_app")) or None
    config = str(pytestconfig.getini("hotline_sim_config"))
    return Target(app=app, config=pytestconfig.rootpath / config if config else None)


@pytest.fixture
def dial(hotline_sim_target: Target) -> Iterator[Callable[..., PhoneCall]]:
    """Place a simulated call: ``call = dial(at="2026-03-30T10:00:00+02:00", from_="+48...")``.

    Apps built for the calls reach the REST stand-in (``$TWILIO_API_URL``, and
    ``$TWILIO_ACCOUNT_SID`` when unset, are set while the test runs and put back after it).
    """
    calls: list[PhoneCall] = []
    saved = {name: os.environ.get(name) for name in (API_URL_VARIABLE, ACCOUNT_SID_ENV)}

    def place(
        at: datetime | str,
        from_: str = "+48601100200",
        to: str = "+48221000000",
        *,
        dialled: Dialled | None = None,
        queues: Mapping[str, QueueBehaviour] | None = None,
        fallback_url: str | None = None,
        voice_method: str | None = None,
        params: Mapping[str, str] | None = None,
        strict: bool | None = None,
    ) -> PhoneCall:
        call = PhoneCall(
            hotline_sim_target,
            _when(at),
            from_,
            to,
            dialled or {},
            queues or {},
            fallback_url,
            voice_method=voice_method,
            params=params,
            strict=strict,
        )
        calls.append(call)
        return call

    yield place
    for call in calls:
        call.close()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _when(at: datetime | str) -> datetime:
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    if when.tzinfo is None:
        raise ValueError(f"dial(at=...): give a time with an offset, got {at!r}")
    return when
