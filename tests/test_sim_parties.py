"""Reading ``[[parties]]``: other calls of a script's session, their defaults, their mistakes."""

from __future__ import annotations

import pytest

from hotline.sim.model import ScriptError
from hotline.sim.scripts.model import CallScript
from hotline.sim.scripts.reader import parse_script

# -- reading parties --------------------------------------------------------------------------

HEADER = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
"""
AGENT = """\
[[parties]]
name = "agent"
from = "client:agent"
"""


def _parse(text: str) -> list[CallScript]:
    return parse_script(text, "s.toml")


def test_a_party_takes_its_defaults_from_the_main_call() -> None:
    (script,) = _parse(HEADER + 'voice_url = "/main"\n' + AGENT)
    (party,) = script.parties
    call = script.party_call(party)
    assert (party.after, party.to, party.voice_url, dict(party.params)) == (0.0, None, None, {})
    assert (call.to, call.voice_url, call.at) == ("+48221000000", "/main", script.at)
    assert call.name == "s / agent"


def test_parties_may_be_written_inside_the_call_and_in_a_file_of_several() -> None:
    (inside,) = _parse(HEADER + AGENT.replace("[[parties]]", "[[call.parties]]"))
    assert [p.name for p in inside.parties] == ["agent"]
    several = """\
[defaults]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
[[calls]]
name = "one"
[[calls.parties]]
name = "agent"
from = "client:agent"
after = 12.5
to = "+48221000001"
params = { agent = "a1", desk = 4 }
[[calls.parties.steps]]
press = 1
[calls.parties.expect]
bridged = "queue:support"
[[calls]]
name = "two"
"""
    one, two = _parse(several)
    (party,) = one.parties
    assert (party.after, party.to) == (12.5, "+48221000001")
    assert party.params == {"agent": "a1", "desk": "4"}
    assert party.steps[0].where.line == 14
    assert party.expect.bridged == "queue:support"
    assert two.parties == ()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (HEADER + "[[parties]]\nfrom = 'x'\n", 5, "each party needs a name"),
        (HEADER + "[[parties]]\nname = 'agent'\n", 5, "party 'agent': missing 'from'"),
        (HEADER + AGENT + AGENT, 9, "two parties are named 'agent'"),
        (HEADER + AGENT + "aftr = 3\n", 8, "unknown key 'aftr' in a party"),
        (HEADER + AGENT + "after = -1\n", 8, "after: expected seconds (0 or more)"),
        (HEADER + AGENT + "voice_url = 'agent'\n", 8, 'voice_url: expected a path like "/voice"'),
        (HEADER + AGENT + "params = { From = 'x' }\n", 8, "'From' is a parameter Twilio sets"),
        (HEADER + AGENT + "params = { vip = true }\n", 8, "'vip' must be a text or a whole"),
        (HEADER + AGENT + "[[parties.steps]]\nprss = '1'\n", 9, "unknown key 'prss' in a step"),
        (
            HEADER + AGENT + "[[parties.expect.messages]]\nto = '+48601100200'\n",
            8,
            "messages: what the app did through the REST API belongs to the whole session",
        ),
        (
            HEADER + AGENT + AGENT.replace("[[parties]]", "[[call.parties]]"),
            8,
            "[[parties]] and [[call.parties]] are the same part of the call: keep one",
        ),
        (
            "[[calls]]\nname = 'a'\n" + AGENT,
            3,
            "[[parties]] at the top of a file with [[calls]]: write [[calls.parties]] under a call",
        ),
        (
            "[defaults]\n[[defaults.parties]]\nname = 'x'\n[[calls]]\nname = 'a'\n",
            2,
            "unknown key 'parties' in [defaults]",
        ),
        (HEADER + "parties = 'agent'\n", 5, "'parties' must be a list of [[parties]] tables"),
    ],
)
def test_party_mistakes_name_their_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        _parse(text)
    assert str(caught.value).startswith(f"s.toml:{line}: ")
    assert message in str(caught.value)
