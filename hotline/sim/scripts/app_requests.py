"""``[[requests]]``: requests a script makes to the app's own JSON API during the call.

An agent clicking "take" in a console, a CRM moving a call: the app's API is driven at a second
of the call, or when something happens on it (``on = "enqueue"``). Every mistake is a
``ScriptError`` naming its line.
"""

from __future__ import annotations

import re
from typing import Any

from hotline.sim.model import EVENT_KINDS
from hotline.sim.scripts.model import AppRequest
from hotline.sim.scripts.values import KeyPath, ValueReader

_METHODS = ("get", "post", "put", "delete")
_KEYS = ("at", "on", "party", "after", *_METHODS, "json", "token", "status")
#: ``{CallSid}`` (the main call) and ``{CallSid:agent}`` (a party's).
CALL_PLACEHOLDER = re.compile(r"\{CallSid(?::([^{}]+))?\}")
_BRACES = re.compile(r"\{[^{}]*\}")


def read_requests(reader: ValueReader, data: Any, path: KeyPath) -> tuple[AppRequest, ...]:
    """Read ``[[requests]]``: each a request to the app at a second, or on an event."""
    if not isinstance(data, list):
        raise reader.fail(path, "'requests' must be a list of [[requests]] tables")
    return tuple(_request(reader, entry, path + (i,)) for i, entry in enumerate(data))


def _request(reader: ValueReader, data: Any, path: KeyPath) -> AppRequest:
    if not isinstance(data, dict):
        raise reader.fail(path, 'a request must be a table like { at = 30, post = "/api/..." }')
    reader.known(data, path, _KEYS, "in a [[requests]] request")
    given = [method for method in _METHODS if method in data]
    if len(given) != 1:
        raise reader.fail(path, 'a request needs one of get, post, put or delete = "/api/..."')
    method = given[0]
    target = reader.text(data[method], path + (method,), method)
    if not target.startswith("/"):
        raise reader.fail(path + (method,), f'{method}: expected a path like "/api/queue"')
    _check_placeholders(reader, target, path + (method,))
    at = reader.seconds(data["at"], path + ("at",), "at") if "at" in data else None
    on = reader.text(data["on"], path + ("on",), "on") if "on" in data else None
    if (at is None) == (on is None):
        raise reader.fail(path, "a request needs 'at' (seconds) or 'on' (an event), not both")
    if on is not None and on not in EVENT_KINDS:
        raise reader.fail(
            path + ("on",), f"on: unknown event {on!r} (expected one of: {', '.join(EVENT_KINDS)})"
        )
    for key in ("party", "after"):
        if key in data and on is None:
            raise reader.fail(path + (key,), f"{key}: only with 'on' (when the event happens)")
    party = reader.text(data["party"], path + ("party",), "party") if "party" in data else ""
    after = reader.seconds(data["after"], path + ("after",), "after") if "after" in data else 0.0
    body = None
    if "json" in data:
        if method in ("get", "delete"):
            raise reader.fail(path + ("json",), f"json: a {method.upper()} sends no body")
        if not isinstance(data["json"], dict):
            raise reader.fail(path + ("json",), 'json: expected a table like { state = "..." }')
        body = data["json"]
        for name, value in body.items():
            if isinstance(value, str):
                _check_placeholders(reader, value, path + ("json", name))
    token = reader.text(data["token"], path + ("token",), "token") if "token" in data else None
    status = reader.http_status(data["status"], path + ("status",)) if "status" in data else None
    return AppRequest(
        reader.where(path), method.upper(), target, body, at, on, party, after, token, status
    )


def _check_placeholders(reader: ValueReader, text: str, path: KeyPath) -> None:
    for found in _BRACES.findall(text):
        if not CALL_PLACEHOLDER.fullmatch(found):
            raise reader.fail(
                path, f"unknown placeholder {found} (expected {{CallSid}} or {{CallSid:PARTY}})"
            )
