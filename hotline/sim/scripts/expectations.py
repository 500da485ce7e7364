"""A call script's ``[expect]``: how the call must end, whom it reached, what the API shows.

Each reader takes the script's ``ValueReader``, so every mistake names its file and line; the
checks themselves run in ``hotline.sim.scripts.checks``.
"""

from __future__ import annotations

from typing import Any

from hotline.sim.scripts.model import ENDINGS, ApiCheck, CalleeHeard, Expect
from hotline.sim.scripts.values import KeyPath, ValueReader

_EXPECT_KEYS = ("ended", "bridged", "queue", "callee_heard", "warnings", "api")


def read_expect(reader: ValueReader, data: Any, path: KeyPath) -> Expect:
    """The ``[expect]`` table: how the call ends, whom it reached, what the API shows."""
    if not isinstance(data, dict):
        raise reader.fail(path, "[expect] must be a table")
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
    return Expect(
        where=reader.where(path),
        ended=ended,
        bridged=reader.maybe_false(data, "bridged", path),
        queue=reader.maybe_false(data, "queue", path),
        api=tuple(_api(reader, check, path + ("api", i)) for i, check in enumerate(checks)),
        callee_heard=_callee_heard(reader, data.get("callee_heard", {}), path + ("callee_heard",)),
        warnings=_warnings(reader, data, path),
        places={
            key: reader.where(path + (key,)) for key in ("ended", "bridged", "queue", "warnings")
        },
    )


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
