"""A call script's ``[[parties]]``: other calls placed in the same session as the script's call.

An agent who dials the queue the caller waits in, a second caller who joins the same conference:
each party is a call of its own on the session's clock, with its own steps and ``[expect]``
(the main call's ``[dialled]`` and ``[queues]`` serve every call of the session). Each reader
takes the script's ``ValueReader``, so every mistake names its file and line.
"""

from __future__ import annotations

from typing import Any

from hotline.sim.scripts.caller_steps import read_step
from hotline.sim.scripts.expectations import read_expect
from hotline.sim.scripts.model import Party
from hotline.sim.scripts.values import KeyPath, ValueReader

_PARTY_KEYS = ("name", "after", "from", "to", "voice_url", "params", "steps", "expect")


def read_parties(reader: ValueReader, data: Any, path: KeyPath) -> tuple[Party, ...]:
    """Read ``[[parties]]``: each a named call with its start, numbers, steps and checks."""
    if not isinstance(data, list):
        raise reader.fail(path, "'parties' must be a list of [[parties]] tables")
    parties = tuple(_party(reader, entry, path + (i,)) for i, entry in enumerate(data))
    seen: set[str] = set()
    for i, party in enumerate(parties):
        if party.name in seen:
            raise reader.fail(path + (i, "name"), f"two parties are named {party.name!r}")
        seen.add(party.name)
    return parties


def _party(reader: ValueReader, data: Any, path: KeyPath) -> Party:
    if not isinstance(data, dict):
        raise reader.fail(path, 'a party must be a table like { name = "agent", from = "..." }')
    reader.known(data, path, _PARTY_KEYS, "in a party")
    if "name" not in data:
        raise reader.fail(path, 'each party needs a name (name = "agent")')
    name = reader.text(data["name"], path + ("name",), "name")
    if "from" not in data:
        raise reader.fail(
            path,
            f'party {name!r}: missing \'from\' (a number like "+48601100200" or "client:alice")',
        )
    steps_data = data.get("steps", [])
    if not isinstance(steps_data, list):
        raise reader.fail(path + ("steps",), "'steps' must be a list of [[parties.steps]] tables")
    steps = tuple(read_step(reader, step, path + ("steps", i)) for i, step in enumerate(steps_data))
    after = 0.0
    if "after" in data:
        after = reader.seconds(data["after"], path + ("after",), "after")
    to = reader.text(data["to"], path + ("to",), "to") if "to" in data else None
    voice_url = None
    if "voice_url" in data:
        voice_url = reader.voice_url(data["voice_url"], path + ("voice_url",))
    params = reader.params(data["params"], path + ("params",)) if "params" in data else {}
    return Party(
        name=name,
        where=reader.where(path),
        from_=reader.text(data["from"], path + ("from",), "from"),
        steps=steps,
        expect=read_expect(reader, data.get("expect", {}), path + ("expect",), party=True),
        after=after,
        to=to,
        voice_url=voice_url,
        params=params,
    )
