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


def call_details(given: Mapping[str, str]) -> dict[str, str]:
    """The params ``given`` details add to each request: themselves and their Caller/Called twins.

    A name Twilio does not document raises ``ValueError`` naming the ones it does.
    """
    unknown = [name for name in given if name not in CALL_DETAILS]
    if unknown:
        raise ValueError(
            f"unknown call detail {unknown[0]!r} (Twilio sends: {', '.join(CALL_DETAILS)})"
        )
    added = dict(given)
    for name, value in given.items():
        for side, twin in _REPEATED.items():
            if name.startswith(side):
                added[twin + name.removeprefix(side)] = value
    return added
