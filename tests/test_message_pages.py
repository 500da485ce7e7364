"""The Message Center's pages through Flask's test client: sign-in (a seller's token, a
warehouse agent's), the lists, a thread, reply and forward, the buyer's page behind the link;
sign-in required, CSRF refused, another seller's thread a 404, the forms' errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hotline import create_app
from hotline.agents.login import COOKIE_NAME
from hotline.agents.roster import DEMO_TOKEN, token_digest
from hotline.jobs.context import JobContext
from hotline.jobs.reminders import send_reminders
from hotline.messages.demo import seed_demo
from hotline.messages.threads import open_conversation
from hotline.store.database import get_store
from hotline.store.models import MessageRow, ThreadRow
from hotline.web import webhook
from tests.conftest import API_TOKEN

SELLER_TOKEN = "demo-seller-token"  # acme's, in the shipped config
OTHER_TOKEN = "greenleaf-token"
# The demo's threads, in the order seed_demo writes them.
ANSWERED, LATE, DISCUSSION, FORWARDED = 1, 2, 3, 4


@pytest.fixture
def mc(config: dict[str, Any]) -> Iterator[tuple[Flask, list[str]]]:
    """The app with the demo's four threads and a combined order's delivery Discussion (5);
    greenleaf has a token too. Yields the app and the buyers' links."""
    greenleaf = next(s for s in config["sellers"] if s["id"] == "greenleaf")
    greenleaf["token_sha256"] = token_digest(OTHER_TOKEN)
    app = create_app(config)
    app.config["TESTING"] = True
    settings = app.extensions[webhook.SETTINGS]
    now = datetime.now(UTC)
    with get_store(app).session() as session:
        links = [opened.buyer_link for opened in seed_demo(session, settings, now)]
        combined = next(o for o in settings.orders if o.id == "6789012")
        opened = open_conversation(
            session,
            settings.routing,
            combined,
            text="Nothing came.",
            now=now,
            reason="not_received",
        )
        links.append(opened.buyer_link)
    yield app, links
    get_store(app).engine.dispose()


def csrf_of(page: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def sign_in(client: FlaskClient, token: str) -> str:
    """Sign in with ``token``; the session's CSRF token."""
    csrf = csrf_of(client.get("/messages/login").text)
    response = client.post("/messages/login", data={"csrf_token": csrf, "token": token})
    assert response.status_code == 302, response.text
    return csrf_of(client.get("/messages").text)


def messages_of(app: Flask, thread_id: int) -> list[tuple[str, str, str]]:
    with get_store(app).session() as session:
        thread = session.get(ThreadRow, thread_id)
        assert thread is not None
        return [(m.author, m.kind, m.body) for m in thread.messages]


def listed(page: str, table: str) -> list[int]:
    """The thread ids of one of the list's tables, in order."""
    part = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(n) for n in re.findall(r'data-thread="(\d+)"', part)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/messages"),
        ("get", f"/messages/{ANSWERED}"),
        ("post", f"/messages/{ANSWERED}/reply"),
        ("post", f"/messages/{ANSWERED}/forward"),
    ],
)
def test_the_pages_need_a_sign_in(mc: tuple[Flask, list[str]], method: str, path: str) -> None:
    app, _ = mc
    response = getattr(app.test_client(), method)(path, data={"text": "hi"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/messages/login"
    assert messages_of(app, ANSWERED)[-1][2].startswith("Yes: plug it")


def test_a_wrong_token_and_a_missing_csrf_token_are_refused(mc: tuple[Flask, list[str]]) -> None:
    client = mc[0].test_client()
    csrf = csrf_of(client.get("/messages/login").text)
    wrong = client.post("/messages/login", data={"csrf_token": csrf, "token": "guess"})
    assert wrong.status_code == 401
    assert "That token is no seller&#39;s or warehouse agent&#39;s." in wrong.text
    no_csrf = client.post("/messages/login", data={"token": SELLER_TOKEN})
    assert no_csrf.status_code == 403
    assert client.get("/messages").status_code == 302  # still not signed in


@pytest.mark.parametrize("token", [SELLER_TOKEN, DEMO_TOKEN], ids=["seller", "warehouse"])
def test_signing_out_ends_every_copy_of_the_session(
    mc: tuple[Flask, list[str]], token: str
) -> None:
    """A seller's (or a warehouse agent's) cookie copied before sign-out is signed out with it."""
    client = mc[0].test_client()
    csrf = sign_in(client, token)
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    copy = mc[0].test_client()
    copy.set_cookie(COOKIE_NAME, cookie.value)
    assert copy.get("/messages").status_code == 200
    assert client.post("/messages/logout", data={"csrf_token": csrf}).status_code == 302
    assert copy.get("/messages").status_code == 302  # back to the sign-in form
    sign_in(copy, token)  # a new sign-in is of the new generation
    assert copy.get("/messages").status_code == 200


def test_the_seller_sees_the_unanswered_first_the_followed_and_the_figures(
    mc: tuple[Flask, list[str]],
) -> None:
    client = mc[0].test_client()
    sign_in(client, SELLER_TOKEN)
    page = client.get("/messages").text
    assert "Acme Electronics" in page
    assert listed(page, "assigned") == [DISCUSSION, LATE, ANSWERED]  # unanswered first
    assert re.search(r'data-standing="waiting">18 h 5\d min left<', page)
    assert listed(page, "followed") == [FORWARDED]  # the warehouse's now: read-only
    assert 'data-standing="overdue">overdue by 2 h 0 min<' in page
    assert 5 not in listed(page, "assigned") + listed(page, "followed")  # the combined Discussion
    # One timely (2 h), two late (30 h; the forwarded one, unanswered past its mark), one pending.
    assert '<dd id="timely-responses">33 %</dd>' in page
    assert '<dd id="average-response-time">16 h 0 min</dd>' in page


def test_the_warehouse_sees_its_threads_and_follows_the_sellers(
    mc: tuple[Flask, list[str]],
) -> None:
    client = mc[0].test_client()
    sign_in(client, DEMO_TOKEN)
    page = client.get("/messages").text
    assert listed(page, "assigned") == [FORWARDED, 5]  # the overdue one's mark comes first
    assert listed(page, "followed") == [DISCUSSION, LATE, ANSWERED]
    followed = client.get(f"/messages/{DISCUSSION}").text
    assert 'id="read-only"' in followed and "Send reply" not in followed


@pytest.mark.parametrize("thread_id", [ANSWERED, FORWARDED, 5, 99, 2**31, 2**63])
def test_a_thread_another_seller_cannot_see_is_a_404_on_every_page_route(
    mc: tuple[Flask, list[str]], thread_id: int
) -> None:
    app, _ = mc
    client = app.test_client()
    csrf = sign_in(client, OTHER_TOKEN)
    before = [messages_of(app, t) for t in (ANSWERED, FORWARDED, 5)]
    assert client.get(f"/messages/{thread_id}").status_code == 404
    for action, field in (("reply", "text"), ("forward", "note")):
        response = client.post(
            f"/messages/{thread_id}/{action}", data={"csrf_token": csrf, field: "mine?"}
        )
        assert response.status_code == 404
    assert [messages_of(app, t) for t in (ANSWERED, FORWARDED, 5)] == before


def test_a_reply_without_the_csrf_token_is_refused_and_writes_nothing(
    mc: tuple[Flask, list[str]],
) -> None:
    app, _ = mc
    client = app.test_client()
    sign_in(client, SELLER_TOKEN)
    before = messages_of(app, DISCUSSION)
    for data in ({"text": "hello"}, {"text": "hello", "csrf_token": "forged"}):
        assert client.post(f"/messages/{DISCUSSION}/reply", data=data).status_code == 403
    assert client.post(f"/messages/{DISCUSSION}/forward", data={"note": "x"}).status_code == 403
    assert messages_of(app, DISCUSSION) == before


@pytest.mark.parametrize(
    ("text", "status", "says"),
    [
        ("x" * 2001, 400, "&#34;text&#34; is 2001 characters long; at most 2000"),
        ("   ", 400, "&#34;text&#34; must be a non-empty string"),
    ],
)
def test_a_bad_reply_is_shown_with_the_reason_and_kept_in_the_form(
    mc: tuple[Flask, list[str]], text: str, status: int, says: str
) -> None:
    app, _ = mc
    client = app.test_client()
    csrf = sign_in(client, SELLER_TOKEN)
    before = messages_of(app, DISCUSSION)
    response = client.post(f"/messages/{DISCUSSION}/reply", data={"csrf_token": csrf, "text": text})
    assert response.status_code == status
    assert 'role="alert"' in response.text and says in response.text
    assert f">{text}</textarea>" in response.text
    assert messages_of(app, DISCUSSION) == before


def test_only_the_assigned_party_responds_the_refusal_shown_with_its_reason(
    mc: tuple[Flask, list[str]],
) -> None:
    app, _ = mc
    client = app.test_client()
    csrf = sign_in(client, SELLER_TOKEN)
    before = messages_of(app, FORWARDED)
    for action, field in (("reply", "text"), ("forward", "note")):
        response = client.post(
            f"/messages/{FORWARDED}/{action}", data={"csrf_token": csrf, field: "let me"}
        )
        assert response.status_code == 403
        assert "assigned to the warehouse, not to the seller" in response.text
    assert messages_of(app, FORWARDED) == before


def test_reply_forward_and_forward_back(mc: tuple[Flask, list[str]]) -> None:
    app, _ = mc
    seller = app.test_client()
    csrf = sign_in(seller, SELLER_TOKEN)
    response = seller.post(
        f"/messages/{DISCUSSION}/reply", data={"csrf_token": csrf, "text": "Send it back, please."}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/messages/{DISCUSSION}"
    response = seller.post(
        f"/messages/{DISCUSSION}/forward", data={"csrf_token": csrf, "note": "A return: yours."}
    )
    assert response.status_code == 302
    page = seller.get(f"/messages/{DISCUSSION}").text
    assert '<dd id="assigned">warehouse</dd>' in page and 'id="read-only"' in page

    warehouse = app.test_client()
    csrf = sign_in(warehouse, DEMO_TOKEN)
    page = warehouse.get(f"/messages/{DISCUSSION}").text
    assert "A return: yours." in page and "Forward to the seller" in page
    response = warehouse.post(
        f"/messages/{DISCUSSION}/forward", data={"csrf_token": csrf, "note": "No: a defect."}
    )
    assert response.status_code == 302
    assert messages_of(app, DISCUSSION)[-3:] == [
        ("seller", "message", "Send it back, please."),
        ("seller", "note", "A return: yours."),
        ("warehouse", "note", "No: a defect."),
    ]
    assert '<dd id="assigned">seller</dd>' in seller.get(f"/messages/{DISCUSSION}").text


def test_an_empty_note_is_a_400_and_forwards_nothing(mc: tuple[Flask, list[str]]) -> None:
    app, _ = mc
    client = app.test_client()
    csrf = sign_in(client, SELLER_TOKEN)
    response = client.post(f"/messages/{LATE}/forward", data={"csrf_token": csrf, "note": ""})
    assert response.status_code == 400
    assert "&#34;note&#34; must be a non-empty string" in response.text
    assert '<dd id="assigned">seller</dd>' in response.text


def test_the_buyers_page_shows_no_note_and_takes_their_reply(
    mc: tuple[Flask, list[str]],
) -> None:
    app, links = mc
    buyer = app.test_client()
    page = buyer.get(links[FORWARDED - 1]).text
    assert "When will my order leave the warehouse?" in page
    assert "the warehouse knows when it leaves" not in page  # the forward's note
    csrf = csrf_of(page)
    response = buyer.post(links[FORWARDED - 1], data={"csrf_token": csrf, "text": "Any news?"})
    assert response.status_code == 302
    assert messages_of(app, FORWARDED)[-1] == ("buyer", "message", "Any news?")
    too_long = buyer.post(links[FORWARDED - 1], data={"csrf_token": csrf, "text": "y" * 2001})
    assert too_long.status_code == 400 and "at most 2000" in too_long.text
    assert buyer.post(links[FORWARDED - 1], data={"text": "no csrf"}).status_code == 403
    assert messages_of(app, FORWARDED)[-1] == ("buyer", "message", "Any news?")


def test_a_buyers_page_asks_for_no_referer_and_no_other_page_does(
    mc: tuple[Flask, list[str]],
) -> None:
    # A Referer from a buyer's page would carry the link's secret (to the stylesheet's request,
    # to wherever a link leads); every answer under /t/ says not to send one.
    app, links = mc
    buyer, seller = app.test_client(), app.test_client()
    csrf = csrf_of(buyer.get(links[0]).text)
    seller_csrf = sign_in(seller, SELLER_TOKEN)
    answers = [
        (buyer.get(links[0]), 200, "no-referrer"),
        (buyer.post(links[0], data={"csrf_token": csrf, "text": "Hello?"}), 302, "no-referrer"),
        (buyer.post(links[0], data={"csrf_token": csrf, "text": ""}), 400, "no-referrer"),
        (buyer.get(links[0] + "x"), 404, "no-referrer"),
        (buyer.get("/messages/static/messages.css"), 200, None),
        (seller.get("/messages"), 200, None),
        (seller.get(f"/messages/{LATE}"), 200, None),
        (seller.post("/messages/logout", data={"csrf_token": seller_csrf}), 302, None),
    ]
    for response, status, policy in answers:
        response.close()  # the stylesheet's answer holds its file open until then
        assert (response.status_code, response.headers.get("Referrer-Policy")) == (status, policy)


def test_a_refused_reply_is_logged_without_the_links_secret(
    mc: tuple[Flask, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, links = mc
    secret = links[0].rsplit("/", 1)[1]
    with caplog.at_level(logging.WARNING, logger="hotline"):
        assert app.test_client().post(links[0], data={"text": "no csrf"}).status_code == 403
    refusals = [r.getMessage() for r in caplog.records if "CSRF" in r.getMessage()]
    shown = links[0].rsplit("/", 1)[0] + "/…"
    assert refusals == [f"Message Center POST {shown} refused: missing or wrong CSRF token"]
    assert secret not in caplog.text


def test_an_error_on_a_buyers_page_is_logged_without_the_links_secret(
    mc: tuple[Flask, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    app, links = mc
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as served: a 500, the error logged
    secret = links[0].rsplit("/", 1)[1]
    with get_store(app).engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE thread_messages RENAME TO gone")  # a 500 on the page
    with caplog.at_level(logging.ERROR, logger="hotline"):
        assert app.test_client().get(links[0]).status_code == 500
    shown = links[0].rsplit("/", 1)[0] + "/…"
    assert [r.getMessage() for r in caplog.records] == [f"Exception on {shown} [GET]"]
    assert caplog.records[0].exc_info is not None  # the traceback is still logged
    assert secret not in caplog.text


def test_a_link_works_for_its_thread_only(mc: tuple[Flask, list[str]]) -> None:
    app, links = mc
    buyer = app.test_client()
    csrf = csrf_of(buyer.get(links[0]).text)
    secret = links[0].rsplit("/", 1)[1]
    for path in (f"/t/2/{secret}", f"/t/1/{secret}x", "/t/1/x", f"/t/{2**40}/{secret}"):
        assert buyer.get(path).status_code == 404
        assert buyer.post(path, data={"csrf_token": csrf, "text": "x"}).status_code == 404
    with get_store(app).session() as session:
        count = session.scalar(select(func.count()).select_from(MessageRow))
    assert count == 10  # the five threads' two messages each: nothing written


def test_sign_out_ends_the_session(mc: tuple[Flask, list[str]]) -> None:
    client = mc[0].test_client()
    csrf = sign_in(client, SELLER_TOKEN)
    response = client.post("/messages/logout", data={"csrf_token": csrf})
    assert response.headers["Location"] == "/messages/login"
    assert client.get("/messages").status_code == 302


def test_without_a_session_secret_the_pages_say_how_to_turn_them_on(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_SECRET_KEY")
    app = create_app(config)
    try:
        response = app.test_client().get("/messages/login")
        assert response.status_code == 503
        assert "$HOTLINE_SECRET_KEY" in response.text
        assert app.test_client().get("/t/1/x").status_code == 503
    finally:
        get_store(app).engine.dispose()


def test_the_overdue_mark_the_scheduler_set_is_shown_with_the_standing(
    mc: tuple[Flask, list[str]],
) -> None:
    app = mc[0]
    store = get_store(app)
    report = send_reminders(JobContext(app.extensions[webhook.SETTINGS], store), datetime.now(UTC))
    assert sorted(report.marked) == [LATE, FORWARDED]  # past their mark with no response before
    with store.session() as session:
        marks = {t: session.get_one(ThreadRow, t).overdue_at for t in (LATE, FORWARDED)}
    client = app.test_client()
    sign_in(client, SELLER_TOKEN)
    page = client.get("/messages").text
    late = f"{marks[LATE]:%Y-%m-%d %H:%M} UTC"
    assert f'data-standing="answered">answered (late: overdue from {late})<' in page
    assert 'data-standing="overdue">overdue by 2 h 0 min<' in page  # as before the mark
    thread = client.get(f"/messages/{FORWARDED}").text
    assert f'<dd id="overdue-mark">{marks[FORWARDED]:%Y-%m-%d %H:%M:%S} UTC</dd>' in thread
    assert '<dd id="overdue-mark">no</dd>' in client.get(f"/messages/{DISCUSSION}").text
    shown = (
        app.test_client()
        .get(f"/api/threads/{LATE}", headers={"Authorization": f"Bearer {API_TOKEN}"})
        .json
    )
    assert shown is not None and (shown["overdue"], shown["unanswered"]) == (True, False)
    assert shown["overdue_at"] == marks[LATE].isoformat()  # type: ignore[union-attr]
