"""The Conferences and Participants endpoints through twilio's own Client (switchboard: a test
double)."""

from __future__ import annotations

import pytest
from twilio.rest import Client

from hotline.sim.rest.switchboard import NewParticipant, ParticipantUpdate
from tests.sim.rest.conftest import refusal
from tests.sim.rest.switchboard_double import SwitchboardDouble

APP = "https://app.example.com"
HOTLINE = "+442071000000"
SELLER = "+48600300400"


@pytest.fixture
def room(board: SwitchboardDouble) -> str:
    """An in-progress conference with the buyer in it, labelled ``customer``."""
    conference = board.open_conference("order-1234567")
    board.join(conference, board.add_call(), label="customer")
    return conference.sid


def test_list_filters_and_fetch(client: Client, board: SwitchboardDouble, room: str) -> None:
    board.tick(60)
    other = board.open_conference("order-7654321")
    assert [c.sid for c in client.conferences.list()] == [other.sid, room]
    assert [c.sid for c in client.conferences.list(friendly_name="order-1234567")] == [room]
    assert [c.sid for c in client.conferences.list(status="in-progress")] == [other.sid, room]
    assert client.conferences.list(status="completed") == []
    conference = client.conferences(room).fetch()
    assert (conference.friendly_name, conference.status, conference.region) == (
        "order-1234567", "in-progress", "us1",
    )  # fmt: skip
    assert conference.subresource_uris["participants"].endswith(
        f"/Conferences/{room}/Participants.json"
    )
    error = refusal(lambda: client.conferences("CF" + "0" * 32).fetch())
    assert (error.status, error.code) == (404, 20404)


def test_update_ends_or_announces(client: Client, board: SwitchboardDouble, room: str) -> None:
    client.conferences(room).update(announce_url=f"{APP}/announce", announce_method="GET")
    ended = client.conferences(room).update(status="completed")
    assert board.requests == [
        ("announce_conference", (room, f"{APP}/announce", "GET")),
        ("end_conference", room),
    ]
    assert (ended.status, ended.reason_conference_ended) == (
        "completed",
        "conference-ended-via-api",
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"status": "in-progress"}, 20001), ({"announce_url": "announce"}, 11100)],
)
def test_a_malformed_conference_update_is_refused(
    client: Client, board: SwitchboardDouble, room: str, kwargs: dict[str, str], code: int
) -> None:
    error = refusal(lambda: client.conferences(room).update(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_create_dials_a_participant_with_every_documented_setting(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    participant = client.conferences(room).participants.create(
        from_=HOTLINE,
        to=SELLER,
        label="seller",
        muted=True,
        beep="onEnter",
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        wait_url=f"{APP}/wait",
        wait_method="GET",
        timeout=15,
        status_callback=f"{APP}/participant",
        status_callback_method="GET",
        status_callback_event=["ringing", "answered"],
        conference_status_callback=f"{APP}/conference",
        conference_status_callback_method="GET",
        conference_status_callback_event=["join", "leave", "hold"],
        early_media=False,
        coaching=True,
        call_sid_to_coach=board.participants(room)[0].call_sid,
    )
    assert board.requests == [
        (
            "add_participant",
            (
                room,
                NewParticipant(
                    to=SELLER,
                    from_=HOTLINE,
                    label="seller",
                    muted=True,
                    beep="onEnter",
                    start_conference_on_enter=False,
                    end_conference_on_exit=True,
                    wait_url=f"{APP}/wait",
                    wait_method="GET",
                    timeout=15.0,
                    status_callback=f"{APP}/participant",
                    status_callback_method="GET",
                    status_callback_event=("ringing", "answered"),
                    conference_status_callback=f"{APP}/conference",
                    conference_status_callback_method="GET",
                    conference_status_callback_event=("join", "leave", "hold"),
                    early_media=False,
                    coaching=True,
                    call_sid_to_coach=board.participants(room)[0].call_sid,
                ),
            ),
        )
    ]
    assert participant.call_sid.startswith("CA") and participant.conference_sid == room
    assert (participant.label, participant.status, participant.hold, participant.muted) == (
        "seller", "queued", False, True,
    )  # fmt: skip


def test_create_defaults_and_twilios_default_events(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    client.conferences(room).participants.create(from_=HOTLINE, to=SELLER)
    client.conferences(room).participants.create(
        from_=HOTLINE,
        to="client:agent",
        status_callback=f"{APP}/p",
        conference_status_callback=f"{APP}/c",
    )
    (_, (_, plain)), (_, (_, with_callbacks)) = board.requests
    assert plain == NewParticipant(to=SELLER, from_=HOTLINE)
    assert with_callbacks.status_callback_event == ("completed",)
    assert with_callbacks.conference_status_callback_event == ("start", "end")


def test_create_in_a_conference_named_by_its_friendly_name(
    client: Client, board: SwitchboardDouble
) -> None:
    participant = client.conferences("agents-huddle").participants.create(from_=HOTLINE, to=SELLER)
    assert board.requests[0][1][0] == "agents-huddle"
    assert participant.conference_sid.startswith("CF")


def test_an_empty_wait_url_is_passed_on_as_nothing_to_play(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    client.conferences(room).participants.create(from_=HOTLINE, to=SELLER, wait_url="")
    assert board.requests[0][1][1].wait_url == ""


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"from_": HOTLINE, "to": ""}, 21201),
        ({"from_": "", "to": SELLER}, 21213),
        ({"from_": HOTLINE, "to": "600300400"}, 21211),
        ({"from_": "hotline", "to": SELLER}, 21212),
        ({"from_": HOTLINE, "to": SELLER, "beep": "loud"}, 20001),
        ({"from_": HOTLINE, "to": SELLER, "timeout": 4}, 20001),
        ({"from_": HOTLINE, "to": SELLER, "muted": "maybe"}, 20001),
        ({"from_": HOTLINE, "to": SELLER, "wait_url": "wait"}, 11100),
        ({"from_": HOTLINE, "to": SELLER, "status_callback_event": ["join"]}, 21626),
        ({"from_": HOTLINE, "to": SELLER, "conference_status_callback_event": ["ringing"]}, 21626),
        ({"from_": HOTLINE, "to": SELLER, "coaching": True}, 20001),
    ],
)
def test_a_malformed_create_is_refused(
    client: Client, board: SwitchboardDouble, room: str, kwargs: dict[str, object], code: int
) -> None:
    error = refusal(lambda: client.conferences(room).participants.create(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_participants_list_filters_and_fetch_by_sid_or_label(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    conference = board.conferences()[0]
    agent = board.add_call()
    board.join(conference, agent, label="agent", muted=True, coaching=True, call_sid_to_coach="CA1")
    buyer_sid = board.participants(room)[0].call_sid
    participants = client.conferences(room).participants
    assert [p.call_sid for p in participants.list()] == [buyer_sid, agent.sid]
    assert [p.call_sid for p in participants.list(muted=True)] == [agent.sid]
    assert [p.call_sid for p in participants.list(coaching=False)] == [buyer_sid]
    assert participants.list(hold=True) == []
    assert client.conferences(room).participants("agent").fetch().call_sid == agent.sid
    assert client.conferences(room).participants(buyer_sid).fetch().label == "customer"
    error = refusal(lambda: client.conferences(room).participants("nobody").fetch())
    assert (error.status, error.code) == (404, 20404)


def test_update_holds_mutes_announces_and_coaches(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    buyer_sid = board.participants(room)[0].call_sid
    held = (
        client.conferences(room)
        .participants("customer")
        .update(hold=True, hold_url=f"{APP}/hold", hold_method="POST")
    )
    assert held.hold is True
    client.conferences(room).participants(buyer_sid).update(
        muted=False, announce_url=f"{APP}/announce", end_conference_on_exit=True
    )
    client.conferences(room).participants("customer").update(call_sid_to_coach="CA" + "9" * 32)
    assert [request for _, request in board.requests] == [
        (room, buyer_sid, ParticipantUpdate(hold=True, hold_url=f"{APP}/hold", hold_method="POST")),
        (
            room,
            buyer_sid,
            ParticipantUpdate(
                muted=False, announce_url=f"{APP}/announce", end_conference_on_exit=True
            ),
        ),
        # Twilio: Coaching defaults to true when CallSidToCoach is given
        (room, buyer_sid, ParticipantUpdate(coaching=True, call_sid_to_coach="CA" + "9" * 32)),
    ]
    assert board.participants(room)[0].hold is True


def test_muted_takes_anything_but_true_as_false(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    client.conferences(room).participants("customer").update(muted="yes")
    assert board.requests[0][1][2] == ParticipantUpdate(muted=False)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"coaching": True}, 20001),
        ({"hold": "sometimes"}, 20001),
        ({"hold_url": "hold"}, 11100),
        ({"announce_method": "PUT"}, 21209),
    ],
)
def test_a_malformed_participant_update_is_refused(
    client: Client, board: SwitchboardDouble, room: str, kwargs: dict[str, object], code: int
) -> None:
    error = refusal(lambda: client.conferences(room).participants("customer").update(**kwargs))
    assert (error.status, error.code) == (400, code)
    assert board.requests == []


def test_delete_takes_the_participant_out(
    client: Client, board: SwitchboardDouble, room: str
) -> None:
    buyer_sid = board.participants(room)[0].call_sid
    assert client.conferences(room).participants("customer").delete() is True
    assert board.requests == [("remove_participant", (room, buyer_sid))]
    error = refusal(lambda: client.conferences(room).participants("customer").delete())
    assert (error.status, error.code) == (404, 20404)
