"""The optional details Twilio adds to every request of a call: where its numbers are, and more.

Twilio's voice request documentation ("Twilio's Request") lists, besides the parameters every
request carries, ``CallerName`` (with caller-name lookup on) and ``ForwardedFrom`` (when the
carrier says), and the geographic data it looks up for the ``From`` and ``To`` numbers, "if
available": ``FromCity``, ``FromState``, ``FromZip``, ``FromCountry`` and the same for ``To``.
A call script chooses them (the simulator has no lookup of its own). Twilio's real requests also
carry each geographic value a second time as ``Caller...``/``Called...`` (as ``Caller`` and
``Called`` repeat ``From`` and ``To``); its documentation does not list those, but apps read
them, so the engine adds them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The details a call may carry, as Twilio documents them, and what each says.
CALL_DETAILS: dict[str, str] = {
    "FromCity": "the caller's city",
    "FromState": "the caller's state or province",
    "FromZip": "the caller's postal code",
    "FromCountry": "the caller's country",
    "ToCity": "the called number's city",
    "ToState": "the called number's state or province",
    "ToZip": "the called number's postal code",
    "ToCountry": "the called number's country",
    "CallerName": "the caller's name (Twilio's caller-name lookup)",
    "ForwardedFrom": "the number the call was forwarded from",
}

# The geographic details Twilio repeats under the Caller/Called names, as it repeats From and To.
_REPEATED = {"From": "Caller", "To": "Called"}


#: The parameters Twilio sets itself on every request: a call cannot be given them.
TWILIO_PARAMS = frozenset(
    {"CallSid", "AccountSid", "From", "To", "Caller", "Called", "Direction", "ApiVersion"}
    | {"CallStatus", "ParentCallSid"}
)
_LOOKALIKE = ("From", "To", "Caller", "Called")


def param_problem(name: str, value: object) -> str | None:
    """Why ``name = value`` cannot be an extra request parameter of a call (None: it can).

    Custom parameters (a client's) may have any other name; a name that starts like Twilio's
    own details (``FromTown``) is taken for a misspelt one.
    """
    if name in TWILIO_PARAMS:
        return f"{name!r} is a parameter Twilio sets itself"
    if name in CALL_DETAILS:
        return None if isinstance(value, str) else f"{name} must be a text, got {value!r}"
    if name.startswith(_LOOKALIKE):
        return (
            f"{name!r} is not a parameter Twilio adds to a call"
            f" (expected one of: {', '.join(CALL_DETAILS)})"
        )
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    return f"{name!r} must be a text or a whole number"


def with_twins(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with each geographic detail also under its Caller/Called name (others as are)."""
    added = dict(params)
    for name, value in params.items():
        if name in CALL_DETAILS:
            for side, twin in _REPEATED.items():
                if name.startswith(side):
                    added[twin + name.removeprefix(side)] = value
    return added


def call_details(given: Mapping[str, str]) -> dict[str, str]:
    """The params ``given`` details add to each request: themselves and their Caller/Called twins.

    A name Twilio does not document raises ``ValueError`` naming the ones it does.
    """
    unknown = [name for name in given if name not in CALL_DETAILS]
    if unknown:
        raise ValueError(
            f"unknown call detail {unknown[0]!r} (Twilio sends: {', '.join(CALL_DETAILS)})"
        )
    return with_twins(given)
