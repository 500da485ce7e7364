"""What a script's request got, and whether the script expected it."""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.sim.run.answers import Answer
from hotline.sim.scripts.model import AppRequest, Location, RestRequest

WHERE = Location("s.toml", 7)
AT = datetime(2026, 3, 30, 10, 0, 20)


@pytest.mark.parametrize(
    ("status", "wanted", "failure"),
    [
        (200, None, None),
        (201, None, None),
        (204, None, None),
        (404, None, "s.toml:7: POST /x answered 404 (expected 2xx): body"),
        (404, 404, None),
        (200, 404, "s.toml:7: POST /x answered 200 (expected 404): body"),
        (0, None, "s.toml:7: POST /x was not sent (expected 2xx): body"),
        (0, 404, "s.toml:7: POST /x was not sent (expected 404): body"),
    ],
)
def test_an_answer_fails_unless_it_is_the_one_expected(
    status: int, wanted: int | None, failure: str | None
) -> None:
    for request in (
        RestRequest(WHERE, 20.0, "POST", "x", status=wanted),
        AppRequest(WHERE, "POST", "/x", at=20.0, status=wanted),
    ):
        found = Answer(request, "POST /x", status, "body", AT).failure()
        assert (str(found) if found else None) == failure
        assert found is None or found.at == AT


def test_a_long_body_is_cut_in_the_failure() -> None:
    request = AppRequest(WHERE, "GET", "/x", at=1.0)
    found = Answer(request, "GET /x", 500, "x" * 1000).failure()
    assert found is not None and str(found).endswith("x" * 300 + "…")
