"""``[[rest]]``: requests a script makes to Twilio's REST API during the call, as another system.

An agents' console, a CRM or a scheduler changes live calls through Twilio's REST API; a script
stands in for it with timed requests, sent to the simulator's REST stand-in at a second of the
session. Every mistake is a ``ScriptError`` naming its line.
"""

from __future__ import annotations

import re
from typing import Any

from hotline.sim.scripts.model import RestRequest
from hotline.sim.scripts.values import KeyPath, ValueReader

_METHODS = ("get", "post", "delete")
_KEYS = ("at", *_METHODS, "data", "status")
#: ``{CallSid}``, ``{CallSid:agent}``, ``{QueueSid:support}``, ``{ConferenceSid:room-1}``.
PLACEHOLDER = re.compile(r"\{(CallSid|QueueSid|ConferenceSid)(?::([^{}]+))?\}")
_BRACES = re.compile(r"\{[^{}]*\}")


def read_rest(reader: ValueReader, data: Any, path: KeyPath) -> tuple[RestRequest, ...]:
    """Read ``[[rest]]``: each a request at a second of the call."""
    if not isinstance(data, list):
        raise reader.fail(path, "'rest' must be a list of [[rest]] tables")
    return tuple(_request(reader, entry, path + (i,)) for i, entry in enumerate(data))


def _request(reader: ValueReader, data: Any, path: KeyPath) -> RestRequest:
    if not isinstance(data, dict):
        raise reader.fail(path, 'a REST request must be a table like { at = 30, post = "..." }')
    reader.known(data, path, _KEYS, "in a [[rest]] request")
    given = [method for method in _METHODS if method in data]
    if len(given) != 1:
        raise reader.fail(
            path, 'a REST request needs one of get, post or delete = "Calls/{CallSid}.json"'
        )
    method = given[0]
    if "at" not in data:
        raise reader.fail(path, "a REST request needs 'at' (seconds after the call starts)")
    at = reader.seconds(data["at"], path + ("at",), "at")
    target = reader.text(data[method], path + (method,), method).lstrip("/")
    _check_placeholders(reader, target, path + (method,))
    form: dict[str, str] = {}
    if "data" in data:
        if method != "post":
            raise reader.fail(path + ("data",), f"data: a {method.upper()} sends no form data")
        table = data["data"]
        if not isinstance(table, dict):
            raise reader.fail(path + ("data",), 'data: expected a table like { Url = "/moved" }')
        for name, value in table.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, int | float):
                value = f"{value:g}"
            elif not isinstance(value, str):
                raise reader.fail(path + ("data", name), f"data: {name} must be a text")
            _check_placeholders(reader, value, path + ("data", name))
            form[name] = value
    status = reader.http_status(data["status"], path + ("status",)) if "status" in data else None
    return RestRequest(reader.where(path), at, method.upper(), target, form, status)


def _check_placeholders(reader: ValueReader, text: str, path: KeyPath) -> None:
    for found in _BRACES.findall(text):
        if not PLACEHOLDER.fullmatch(found):
            raise reader.fail(
                path,
                f"unknown placeholder {found} (expected {{CallSid}}, {{CallSid:PARTY}},"
                " {QueueSid:NAME} or {ConferenceSid:NAME})",
            )
