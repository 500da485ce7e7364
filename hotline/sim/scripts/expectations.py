"""A call script's ``[expect]``: how the call must end, whom it reached, what the API shows.

Each reader takes the script's ``ValueReader``, so every mistake names its file and line; the
checks themselves run in ``hotline.sim.scripts.checks`` (what the app did through Twilio's REST
API: ``rest_checks``).
"""

from __future__ import annotations

from typing import Any

from hotline.sim.scripts.model import (
    ENDINGS,
    OUTBOUND_STATUSES,
    ApiCheck,
    CalleeHeard,
    Expect,
    MessageCheck,
    OutboundCheck,
)
from hotline.sim.scripts.values import KeyPath, ValueReader

_EXPECT_KEYS = (
    "ended",
    "bridged",
    "queue",
    "conference",
    "callee_heard",
    "warnings",
    "api",
    "messages",
    "outbound",
    "scheduled",
)
#: Checks of the whole session (what the app did through the REST API, its scheduled work):
#: the main call's only.
_SESSION_KEYS = ("messages", "outbound", "scheduled")
_MESSAGE_KEYS = ("to", "from", "body", "count")
_OUTBOUND_KEYS = ("to", "from", "status", "heard", "count")


def read_expect(reader: ValueReader, data: Any, path: KeyPath, *, party: bool = False) -> Expect:
    """The ``[expect]`` table: how the call ends, whom it reached, what the API shows.

    ``party``: the ``[expect]`` of another party of the session, which has no session checks.
    """
    if not isinstance(data, dict):
        raise reader.fail(path, "[expect] must be a table")
    if party:
        for key in _SESSION_KEYS:
            if key in data:
                what = (
                    "the app's scheduled work"
                    if key == "scheduled"
                    else "what the app did through the REST API"
                )
                raise reader.fail(
                    path + (key,),
                    f"{key}: {what} belongs to the whole session:"
                    " check it in the main call's [expect]",
                )
    reader.known(data, path, _EXPECT_KEYS, "in [expect]")
    ended = None
    if "ended" in data:
        ended = reader.text(data["ended"], path + ("ended",), "ended")
        if ended not in ENDINGS:
            raise reader.fail(
                path + ("ended",), f"ended: expected one of {', '.join(ENDINGS)}, got {ended!r}"
            )
    checks = data.get("api", [])
    if not isinstance(checks, list):
        raise reader.fail(path + ("api",), "'api' must be a list of [[expect.api]] tables")
    places = ("ended", "bridged", "queue", "conference", "warnings")
    return Expect(
        where=reader.where(path),
        ended=ended,
        bridged=reader.maybe_false(data, "bridged", path),
        queue=reader.maybe_false(data, "queue", path),
        conference=reader.maybe_false(data, "conference", path),
        api=tuple(_api(reader, check, path + ("api", i)) for i, check in enumerate(checks)),
        callee_heard=_callee_heard(reader, data.get("callee_heard", {}), path + ("callee_heard",)),
        warnings=_warnings(reader, data, path),
        places={key: reader.where(path + (key,)) for key in places},
        messages=tuple(
            _message(reader, check, here) for check, here in _checks(reader, data, "messages", path)
        ),
        outbound=tuple(
            _outbound(reader, check, here)
            for check, here in _checks(reader, data, "outbound", path)
        ),
        scheduled=_scheduled(reader, data, path),
    )


def _scheduled(reader: ValueReader, data: dict[str, Any], path: KeyPath) -> tuple[str, ...]:
    """``scheduled``: texts each found in some line of the scheduled work done."""
    if "scheduled" not in data:
        return ()
    value = data["scheduled"]
    if value == [] or isinstance(value, bool):
        raise reader.fail(
            path + ("scheduled",),
            "scheduled: expected the texts the lines of the scheduled work must contain:"
            ' "outbox: 1 sent"',
        )
    return reader.texts(value, path + ("scheduled",), "scheduled")


def _warnings(reader: ValueReader, data: dict[str, Any], path: KeyPath) -> tuple[str, ...] | None:
    """``warnings = false`` (none allowed), or a text or list each found in some warning."""
    if "warnings" not in data:
        return None
    value = data["warnings"]
    if value is False:
        return ()
    if value == [] or value is True:
        raise reader.fail(
            path + ("warnings",),
            'warnings: expected false (none) or the texts the warnings must contain: "sequential"',
        )
    return reader.texts(value, path + ("warnings",), "warnings")


def _callee_heard(reader: ValueReader, data: Any, path: KeyPath) -> tuple[CalleeHeard, ...]:
    if not isinstance(data, dict):
        raise reader.fail(path, 'callee_heard must be a table: { "+48600300400" = "compatible" }')
    checks: list[CalleeHeard] = []
    for number, value in data.items():
        here = path + (number,)
        texts = reader.texts(value, here, f"callee_heard {number!r}")
        if not texts:
            raise reader.fail(here, f"callee_heard {number!r}: give a text or a list of texts")
        checks.append(CalleeHeard(reader.where(here), number, texts))
    return tuple(checks)


def _api(reader: ValueReader, data: Any, path: KeyPath) -> ApiCheck:
    if not isinstance(data, dict):
        raise reader.fail(path, "an API check must be a table with 'get'")
    reader.known(data, path, ("get", "contains", "lacks", "status"), "in [[expect.api]]")
    if "get" not in data:
        raise reader.fail(path, "an API check needs 'get' (a path like \"/api/threads\")")
    get = reader.text(data["get"], path + ("get",), "get")
    if not get.startswith("/"):
        raise reader.fail(path + ("get",), f"get: expected a path starting with '/', got {get!r}")
    status = 200
    if "status" in data:
        status_value = data["status"]
        if not isinstance(status_value, int) or isinstance(status_value, bool):
            raise reader.fail(path + ("status",), "status: expected an HTTP status like 200")
        status = status_value
    return ApiCheck(
        where=reader.where(path),
        path=get,
        contains=reader.texts(data.get("contains", []), path + ("contains",), "contains"),
        lacks=reader.texts(data.get("lacks", []), path + ("lacks",), "lacks"),
        status=status,
    )


def _checks(reader: ValueReader, data: Any, key: str, path: KeyPath) -> list[tuple[Any, KeyPath]]:
    """The tables of ``[[expect.KEY]]``; ``KEY = false`` is one check that nothing was done."""
    if key not in data:
        return []
    here = path + (key,)
    value = data[key]
    if value is False:
        return [({"count": 0}, here)]
    if not isinstance(value, list) or not value:
        raise reader.fail(here, f"'{key}' must be a list of [[expect.{key}]] tables, or false")
    return [(check, here + (i,)) for i, check in enumerate(value)]


def _message(reader: ValueReader, data: Any, path: KeyPath) -> MessageCheck:
    if not isinstance(data, dict):
        raise reader.fail(path, 'a message check is a table like { to = "+48601100200" }')
    reader.known(data, path, _MESSAGE_KEYS, "in [[expect.messages]]")
    return MessageCheck(
        where=reader.where(path),
        to=_optional_text(reader, data, "to", path),
        from_=_optional_text(reader, data, "from", path),
        body=reader.texts(data.get("body", []), path + ("body",), "body"),
        count=_count(reader, data, path),
    )


def _outbound(reader: ValueReader, data: Any, path: KeyPath) -> OutboundCheck:
    if not isinstance(data, dict):
        raise reader.fail(path, 'an outbound call check is a table like { to = "+48601100200" }')
    reader.known(data, path, _OUTBOUND_KEYS, "in [[expect.outbound]]")
    status = _optional_text(reader, data, "status", path)
    if status is not None and status not in OUTBOUND_STATUSES:
        raise reader.fail(
            path + ("status",),
            f"status: expected one of {', '.join(OUTBOUND_STATUSES)}, got {status!r}",
        )
    return OutboundCheck(
        where=reader.where(path),
        to=_optional_text(reader, data, "to", path),
        from_=_optional_text(reader, data, "from", path),
        status=status,
        heard=reader.texts(data.get("heard", []), path + ("heard",), "heard"),
        count=_count(reader, data, path),
    )


def _optional_text(reader: ValueReader, data: Any, key: str, path: KeyPath) -> str | None:
    return reader.text(data[key], path + (key,), key) if key in data else None


def _count(reader: ValueReader, data: Any, path: KeyPath) -> int | None:
    if "count" not in data:
        return None
    count = data["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise reader.fail(path + ("count",), f"count: expected 0 or more, got {count!r}")
    return count
