"""Twilio's wire format: RFC 2822 dates, error bodies, list envelopes and their paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hotline.sim.rest.switchboard import RestError
from hotline.sim.rest.wire import JSON, Paging, error_body, list_page, rfc2822
from hotline.twilio_rest.http import not_served

PATH = "/2010-04-01/Accounts/AC1/Things.json"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 30, 10, 0, tzinfo=UTC), "Mon, 30 Nov 2026 10:00:00 +0000"),
        # another offset is shown in UTC, as Twilio shows every time
        (
            datetime(2026, 11, 30, 11, 0, tzinfo=timezone(timedelta(hours=1))),
            "Mon, 30 Nov 2026 10:00:00 +0000",
        ),
        (datetime(2026, 3, 1, 9, 5, 7, 999999, tzinfo=UTC), "Sun, 01 Mar 2026 09:05:07 +0000"),
        (datetime(2026, 11, 30, 10, 0), "Mon, 30 Nov 2026 10:00:00 +0000"),  # naive: UTC
        (None, None),
    ],
)
def test_times_are_rfc_2822_in_utc(moment: datetime | None, text: str | None) -> None:
    assert rfc2822(moment) == text


def test_an_error_is_rendered_as_twilio_renders_it() -> None:
    assert error_body(404, 20404, "gone") == {
        "code": 20404,
        "message": "gone",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


def test_a_url_not_served_names_what_is() -> None:
    body = not_served("taskrouter.twilio.com", "/v1/Workspaces")
    assert body["status"] == 404 and body["code"] == 20404
    assert "taskrouter.twilio.com/v1/Workspaces" in body["message"]
    assert "Calls, Queues (Members), Conferences (Participants) and Messages" in body["message"]


def page(records: list[str], paging: Paging, filters: list[tuple[str, str]] | None = None) -> JSON:
    return list_page(
        PATH,
        filters or [],
        records,
        key=str,
        render=lambda r: {"sid": r},
        list_key="things",
        paging=paging,
    )


def test_a_list_page_has_exactly_the_paging_keys_and_the_resource_key() -> None:
    body = page(["A", "B", "C"], Paging(size=2), [("To", "+48600300400")])
    assert set(body) == {
        "first_page_uri",
        "end",
        "next_page_uri",
        "page",
        "page_size",
        "previous_page_uri",
        "start",
        "uri",
        "things",
    }
    assert body["things"] == [{"sid": "A"}, {"sid": "B"}]
    assert (body["page"], body["page_size"], body["start"], body["end"]) == (0, 2, 0, 1)
    assert body["uri"] == f"{PATH}?To=%2B48600300400&PageSize=2&Page=0"
    assert body["first_page_uri"] == body["uri"]
    assert body["next_page_uri"] == f"{PATH}?To=%2B48600300400&PageSize=2&Page=1&PageToken=PAB"
    assert body["previous_page_uri"] is None


def test_the_next_page_starts_after_the_token_and_links_back() -> None:
    body = page(["A", "B", "C"], Paging(size=2, number=1, token="PAB"))
    assert body["things"] == [{"sid": "C"}]
    assert (body["start"], body["end"], body["next_page_uri"]) == (2, 2, None)
    assert body["previous_page_uri"] == f"{PATH}?PageSize=2&Page=0&PageToken=PBC"
    back = page(["A", "B", "C"], Paging(size=2, number=0, token="PBC"))
    assert back["things"] == [{"sid": "A"}, {"sid": "B"}]


def test_a_page_token_follows_its_record_when_newer_ones_arrive() -> None:
    body = page(["N", "A", "B", "C"], Paging(size=2, number=1, token="PAB"))  # N came since
    assert body["things"] == [{"sid": "C"}]


def test_without_a_token_the_page_number_counts() -> None:
    body = page(["A", "B", "C", "D", "E"], Paging(size=2, number=2))
    assert body["things"] == [{"sid": "E"}]
    assert page(["A"], Paging(size=2, number=0, token="PAgone"))["things"] == [{"sid": "A"}]


def test_an_empty_list() -> None:
    body = page([], Paging())
    assert (body["things"], body["start"], body["end"], body["next_page_uri"]) == ([], 0, 0, None)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"PageSize": "1001"}, 20007),
        ({"PageSize": "0"}, 20001),
        ({"Page": "x"}, 20001),
        ({"Page": "-1"}, 20001),
    ],
)
def test_bad_paging_is_refused(query: dict[str, str], code: int) -> None:
    with pytest.raises(RestError) as caught:
        Paging.from_query(query)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_paging_defaults_to_fifty_from_the_first_page() -> None:
    assert Paging.from_query({}) == Paging(50, 0, None)
    assert Paging.from_query({"PageSize": "1000", "Page": "3", "PageToken": "PAx"}) == Paging(
        1000, 3, "PAx"
    )
