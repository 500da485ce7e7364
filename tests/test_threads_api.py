"""The Message Center's JSON API: opening threads and Discussions, reading, writing under the
one-party rule, forwarding both ways, per-seller isolation on every endpoint, the combined-order
delivery Discussion, call-opened threads, and hypothesis over the bodies (no 5xx, nothing half
written) and over the query strings and ids of the GETs, the figures' too (no 5xx, JSON errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline import create_app
from hotline.agents.roster import token_digest
from hotline.store.database import Store, get_store
from hotline.store.models import MessageRow, OutboxRow, ThreadRow
from tests.conftest import API_TOKEN, CallActions

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}
ACME = {"Authorization": "Bearer demo-seller-token"}
GREENLEAF = {"Authorization": "Bearer greenleaf-token"}
WAREHOUSE = {"Authorization": "Bearer demo-agent-token"}
T0 = "2026-11-26T10:00:00+01:00"


@pytest.fixture
def app(config: dict[str, Any]) -> Iterator[Flask]:
    """The app on the shipped config, greenleaf given a token of its own too."""
    sellers = config["sellers"]
    sellers[2] = {**sellers[2], "token_sha256": token_digest("greenleaf-token")}
    application = create_app(config)
    yield application


@pytest.fixture
def any_app(config: dict[str, Any], any_store: Store) -> Iterator[Flask]:
    """``app`` on SQLite, then on PostgreSQL (which refuses what SQLite keeps: NULs...)."""
    sellers = config["sellers"]
    sellers[2] = {**sellers[2], "token_sha256": token_digest("greenleaf-token")}
    config["store"]["url"] = any_store.engine.url.render_as_string(hide_password=False)
    application = create_app(config)
    client = application.test_client()
    # Two threads to write in: acme's (assigned to the seller), a combined order's delivery
    # Discussion (the warehouse's alone). PostgreSQL's ids go on across tests: kept here.
    application.config["THREADS"] = (
        _open(client)["id"],
        _open(client, order="6789012", reason="not_received")["id"],
    )
    yield application
    get_store(application).engine.dispose()


def _open(client: FlaskClient, **body: str) -> dict[str, Any]:
    body = {"order": "1234567", "text": "Is it waterproof?", **body}
    if "topic" not in body and "reason" not in body:
        body["topic"] = "product_details"
    response = client.post("/api/threads", json=body, headers=OPERATOR)
    assert response.status_code == 201, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def _counts(app: Flask) -> tuple[int, int, int]:
    with get_store(app).session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (ThreadRow, MessageRow, OutboxRow)
        )


ENDPOINTS = [
    ("get", "/api/threads"),
    ("get", "/api/threads/1"),
    ("post", "/api/threads"),
    ("post", "/api/threads/1/messages"),
    ("post", "/api/threads/1/forward"),
    ("post", "/api/threads/1/buyer-link"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic demo-seller-token"])
def test_every_endpoint_needs_a_token(
    client: FlaskClient, method: str, path: str, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = getattr(client, method)(path, json={}, headers=headers)
    assert response.status_code == 401
    assert "bearer token" in response.get_json()["error"]


def test_opening_a_message_and_a_discussion(client: FlaskClient) -> None:
    with freeze_time(T0):
        message = _open(client, topic="order_change")
        discussion = _open(client, reason="not_as_described", product="Phone case")
    assert (message["kind"], message["assigned"], message["party"], message["seller"]) == (
        "message",
        "warehouse",
        "warehouse",
        "acme",
    )
    assert message["buyer_link"].startswith(f"/t/{message['id']}/")
    assert (discussion["kind"], discussion["assigned"], discussion["reason"]) == (
        "discussion",
        "seller",
        "not_as_described",
    )
    assert discussion["due_at"] == "2026-11-27T09:00:00+00:00"  # opened + 24 h
    assert [(m["author"], m["body"]) for m in discussion["messages"]] == [
        ("system", "Discussion opened: not as described. Product: Phone case."),
        ("buyer", "Is it waterproof?"),
    ]
    shown = client.get(f"/api/threads/{discussion['id']}", headers=OPERATOR).get_json()
    assert "buyer_link" not in shown and shown["messages"] == discussion["messages"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"topic": "lower_prices"}, 400, "unknown topic 'lower_prices'"),
        ({"reason": "lost"}, 400, "unknown reason 'lost'"),
        ({"topic": "lower_price", "text": "x" * 2001}, 400, "2001 characters long; at most 2000"),
        ({"topic": "lower_price", "text": ""}, 400, '"text" must be a non-empty string'),
        ({"topic": "lower_price", "text": 5}, 400, '"text" must be a non-empty string'),
        ({"topic": "lower_price", "order": "999"}, 400, "unknown order '999'"),
        ({"topic": "lower_price", "colour": "red"}, 400, "unknown field 'colour'"),
        ({"topic": 1}, 400, '"topic" must be a non-empty string'),
        ({"order": "6789012", "topic": "lower_price"}, 400, 'say which in "seller"'),
    ],
)
def test_bad_openings_are_400_naming_why_and_write_nothing(
    app: Flask, client: FlaskClient, body: dict[str, Any], status: int, error: str
) -> None:
    before = _counts(app)
    full = {"order": "1234567", "text": "Hi", **body}
    response = client.post("/api/threads", json=full, headers=OPERATOR)
    assert response.status_code == status
    assert error in response.get_json()["error"]
    assert _counts(app) == before


@pytest.mark.parametrize("headers", [ACME, WAREHOUSE])
def test_only_the_operator_opens_threads(client: FlaskClient, headers: dict[str, str]) -> None:
    body = {"order": "1234567", "topic": "lower_price", "text": "Hi"}
    response = client.post("/api/threads", json=body, headers=headers)
    assert response.status_code == 403
    assert "operator" in response.get_json()["error"]


def test_the_longest_text_is_2000_characters(client: FlaskClient) -> None:
    thread = _open(client, text="x" * 2000)
    assert len(thread["messages"][0]["body"]) == 2000


def _post(client: FlaskClient, thread: int, headers: dict[str, str], **body: str) -> Any:
    return client.post(f"/api/threads/{thread}/messages", json=body, headers=headers)


def _forward(client: FlaskClient, thread: int, headers: dict[str, str], **body: str) -> Any:
    return client.post(f"/api/threads/{thread}/forward", json=body, headers=headers)


def test_one_party_rule_and_forwarding_both_ways(app: Flask, client: FlaskClient) -> None:
    with freeze_time(T0):
        thread = _open(client, topic="product_details")
    tid, due = thread["id"], thread["due_at"]
    before = _counts(app)
    # Assigned to the seller: the warehouse follows it read-only.
    refused = _post(client, tid, WAREHOUSE, author="warehouse", text="We can help")
    assert refused.status_code == 403
    assert "assigned to the seller, not to the warehouse" in refused.get_json()["error"]
    assert _forward(client, tid, WAREHOUSE, to="seller", note="x").status_code == 403
    assert _counts(app) == before
    # The seller forwards to the warehouse with a note: the assignment changes at once.
    with freeze_time("2026-11-26T11:00:00+01:00"):
        forwarded = _forward(client, tid, ACME, to="warehouse", note="A delivery question")
    assert forwarded.status_code == 200
    assert forwarded.get_json()["assigned"] == "warehouse"
    assert forwarded.get_json()["due_at"] == due  # the clock is not reset
    assert _post(client, tid, ACME, text="Let me answer anyway").status_code == 403
    answered = _post(client, tid, WAREHOUSE, text="It ships today.")
    assert answered.status_code == 201
    assert answered.get_json()["message"]["author"] == "warehouse"
    assert answered.get_json()["message"]["author_id"] == "demo"
    # Forwarded back: the seller responds again; the buyer may always write.
    back = _forward(client, tid, WAREHOUSE, to="seller", note="The seller knows the model")
    assert back.get_json()["assigned"] == "seller"
    assert _post(client, tid, ACME, author="seller", text="Yes, IP68.").status_code == 201
    assert _post(client, tid, WAREHOUSE, text="Too late").status_code == 403
    assert _post(client, tid, OPERATOR, author="buyer", text="Thanks!").status_code == 201
    assert _post(client, tid, OPERATOR, author="warehouse", text="x").status_code == 403
    # The notes are seen by both parties; the buyer's view leaves them out.
    for headers in (ACME, WAREHOUSE):
        shown = client.get(f"/api/threads/{tid}", headers=headers).get_json()
        assert [(m["author"], m["kind"]) for m in shown["messages"]] == [
            ("buyer", "message"),
            ("seller", "note"),
            ("warehouse", "message"),
            ("warehouse", "note"),
            ("seller", "message"),
            ("buyer", "message"),
        ]
        assert shown["due_at"] == due
    with get_store(app).session() as session:
        from hotline.messages.threads import thread_as_dict

        buyers = thread_as_dict(session.get_one(ThreadRow, tid), for_buyer=True)
        assert [m["kind"] for m in buyers["messages"]] == ["message"] * 4  # type: ignore[index]
        kinds = session.scalars(select(OutboxRow.kind).order_by(OutboxRow.id)).all()
    assert kinds == [
        "thread_opened",
        "thread_forwarded",
        "thread_answered",
        "thread_forwarded",
        "thread_answered",
        "buyer_replied",
    ]


@pytest.mark.parametrize(
    ("headers", "body", "error"),
    [
        (ACME, {"author": "warehouse", "text": "x"}, "writes as the seller"),
        (ACME, {"author": "buyer", "text": "x"}, "writes as the seller"),
        (WAREHOUSE, {"author": "seller", "text": "x"}, "writes as the warehouse"),
        (OPERATOR, {"author": "system", "text": "x"}, '"author" must be'),
    ],
)
def test_a_credential_writes_only_as_its_holder(
    app: Flask, client: FlaskClient, headers: dict[str, str], body: dict[str, str], error: str
) -> None:
    tid = _open(client)["id"]
    before = _counts(app)
    response = client.post(f"/api/threads/{tid}/messages", json=body, headers=headers)
    assert response.status_code == 403
    assert error in response.get_json()["error"]
    assert _counts(app) == before


def test_a_seller_never_sees_another_sellers_thread_on_any_endpoint(
    app: Flask, client: FlaskClient
) -> None:
    tid = _open(client)["id"]  # acme's
    before = _counts(app)
    assert client.get("/api/threads", headers=GREENLEAF).get_json() == {"threads": []}
    assert client.get("/api/threads?seller=acme", headers=GREENLEAF).get_json() == {"threads": []}
    for response in (
        client.get(f"/api/threads/{tid}", headers=GREENLEAF),
        _post(client, tid, GREENLEAF, author="seller", text="Mine now"),
        _forward(client, tid, GREENLEAF, to="warehouse", note="x"),
    ):
        assert response.status_code == 404  # the same as no thread at all
        assert response.get_json() == {"error": f"no thread {tid}"}
    assert client.get("/api/threads/999999", headers=GREENLEAF).status_code == 404
    assert client.get("/api/threads/99999999999999999999", headers=OPERATOR).status_code == 404
    assert _counts(app) == before
    assert [t["id"] for t in client.get("/api/threads", headers=ACME).get_json()["threads"]] == [
        tid
    ]


def test_a_combined_orders_delivery_discussion(app: Flask, client: FlaskClient) -> None:
    thread = _open(client, order="6789012", reason="damaged_in_transport")
    tid = thread["id"]
    assert (thread["assigned"], thread["seller"], thread["combined"]) == ("warehouse", None, True)
    for seller in (ACME, GREENLEAF):
        assert client.get("/api/threads", headers=seller).get_json() == {"threads": []}
        assert client.get(f"/api/threads/{tid}", headers=seller).status_code == 404
    assert client.get(f"/api/threads/{tid}", headers=WAREHOUSE).status_code == 200
    refused = _forward(client, tid, WAREHOUSE, to="seller", note="yours?")
    assert refused.status_code == 403 and "no seller" in refused.get_json()["error"]
    assert _post(client, tid, WAREHOUSE, text="A new one is on its way.").status_code == 201
    with get_store(app).session() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        told = [(o.kind, o.recipient, json.loads(o.payload)) for o in rows[:3]]
    assert told == [
        (
            "discussion_opened",
            "warehouse",
            {"thread": tid, "order": "6789012", "topic": None, "reason": "damaged_in_transport"},
        ),
        (
            "discussion_opened_elsewhere",
            "acme",
            {"order": "6789012", "reason": "damaged_in_transport"},
        ),
        (
            "discussion_opened_elsewhere",
            "greenleaf",
            {"order": "6789012", "reason": "damaged_in_transport"},
        ),
    ]
    # A combined order's seller question names its seller, who alone sees it.
    seller_thread = _open(client, order="6789012", topic="lower_price", seller="greenleaf")
    assert client.get(f"/api/threads/{seller_thread['id']}", headers=GREENLEAF).status_code == 200
    assert client.get(f"/api/threads/{seller_thread['id']}", headers=ACME).status_code == 404


def test_list_filters(client: FlaskClient) -> None:
    seller = _open(client, topic="lower_price")["id"]
    warehouse = _open(client, topic="order_change")["id"]
    _post(client, seller, ACME, text="Sure, 5% off.")

    def ids(query: str, headers: dict[str, str] = OPERATOR) -> list[int]:
        response = client.get(f"/api/threads{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [t["id"] for t in response.get_json()["threads"]]

    assert ids("") == [warehouse, seller]
    assert ids("?assigned=seller") == ids("?party=seller") == [seller]
    assert ids("?assigned=warehouse") == [warehouse]
    assert ids("?unanswered=true") == [warehouse]
    assert ids("?unanswered=false") == [seller]
    assert ids("?seller=acme&unanswered=1") == [warehouse]
    assert ids("?unanswered=true", ACME) == [warehouse]  # followed, read-only
    assert ids("", WAREHOUSE) == [warehouse, seller]
    for bad in ("?assigned=buyer", "?unanswered=maybe", "?seller=%00"):
        response = client.get(f"/api/threads{bad}", headers=OPERATOR)
        assert response.status_code == 400 and "error" in response.get_json()


def test_a_thread_opened_by_a_call_shows_the_buyers_question(
    call: CallActions, client: FlaskClient
) -> None:
    # After hours, the seller's fallback: 2 leaves the question in a thread (signed webhooks).
    with freeze_time("2026-11-26T22:00:00+01:00"):
        menu = call.start()
        asked = call.press(call.press(menu, "1"), "1")
        fallback = call.say(asked, "Is it waterproof?")
        call.press(fallback, "2")
    [thread] = client.get("/api/threads?unanswered=true", headers=ACME).get_json()["threads"]
    assert (thread["kind"], thread["assigned"], thread["topic"]) == (
        "message",
        "seller",
        "product_details",
    )
    first, summary = thread["messages"]
    assert (first["author"], first["body"]) == ("buyer", "Is it waterproof?")
    assert summary["author"] == "system"
    assert "phone call about product" in summary["body"] and "order 1234567" in summary["body"]
    answered = _post(client, thread["id"], ACME, text="Yes, it is.")
    assert answered.status_code == 201


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
CODES = st.sampled_from(
    [
        "product_details",
        "lower_price",
        "order_change",
        "not_received",
        "defect_during_use",
        "nope",
        "",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.just("x" * 2001),
    st.just("a\x00b"),
    st.just("\ud800"),
    st.integers(),
    st.none(),
)
FIELD_VALUES = st.one_of(CODES, TEXTS, JSONISH)
BODIES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "order": st.sampled_from(["1234567", "6789012", "4567890", "0", ""]) | FIELD_VALUES,
            "topic": CODES | FIELD_VALUES,
            "reason": CODES,
            "text": TEXTS,
            "seller": st.sampled_from(["acme", "greenleaf", "bookworm"]) | FIELD_VALUES,
            "author": st.sampled_from(["buyer", "seller", "warehouse", "system"]) | FIELD_VALUES,
            "to": st.sampled_from(["seller", "warehouse", "buyer"]) | FIELD_VALUES,
            "note": TEXTS,
            "product": TEXTS,
        },
    ),
    JSONISH,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/threads",
            "/api/threads/1/messages",
            "/api/threads/1/forward",
            "/api/threads/2/forward",
        ]
    ),
    headers=st.sampled_from([OPERATOR, ACME, GREENLEAF, WAREHOUSE]),
    body=BODIES,
    raw=st.booleans(),
)
def test_any_body_gets_an_answer_and_a_refusal_writes_nothing(
    any_app: Flask, path: str, headers: dict[str, str], body: Any, raw: bool
) -> None:
    app, client = any_app, any_app.test_client()
    first, second = app.config["THREADS"]
    path = path.replace("/1/", f"/{first}/").replace("/2/", f"/{second}/")
    before = _counts(app)
    if raw:  # not JSON at all, or JSON with the wrong content type
        response = client.post(path, data=json.dumps(body, default=str)[:50], headers=headers)
    else:
        response = client.post(path, json=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert "error" in response.get_json() or response.status_code in (200, 201)
    if response.status_code >= 400:
        assert _counts(app) == before


# Query values: no lone surrogates (a URL cannot carry them); NULs and the like, yes.
QUERY_TEXTS = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_LIMITS = [
    "0001-01-01",
    "0001-01-01T00:00+23:59",
    "1969-12-31T23:59Z",
    "1970-01-01",
    "1970-01-01T00:00Z",
    "9998-12-31T23:59Z",
    "9998-12-31",
    "9999-01-01",
    "9999-12-31",
    "9999-12-31T23:00",
    "9999-12-31T23:59:59.999999-23:59",
    "2026-03-29T02:30",  # skipped in Warsaw
    "2026-10-25T02:30",  # shown twice
    "2026-11-26",
    "2026-11-26T10:00 01:00",  # an unencoded +
]
_OFFSETS = st.sampled_from(["", "Z", "+01:00", "-23:59", "+14:00", " 02:00"])
DATES = st.one_of(
    st.sampled_from(_LIMITS),
    st.dates().map(lambda d: d.isoformat()),
    st.builds(
        lambda moment, offset: moment.isoformat(timespec="minutes") + offset,
        st.datetimes(),
        _OFFSETS,
    ),
    QUERY_TEXTS,
)
SELLERS = st.sampled_from(["acme", "greenleaf", "bookworm", "warehouse", ""]) | QUERY_TEXTS
LIST_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "seller": SELLERS,
        "party": st.sampled_from(["seller", "warehouse", "buyer"]) | QUERY_TEXTS,
        "assigned": st.sampled_from(["seller", "warehouse", "buyer"]) | QUERY_TEXTS,
        "unanswered": st.sampled_from(["true", "false", "1", "0", "maybe"]) | QUERY_TEXTS,
    },
)
FIGURES_QUERIES = st.fixed_dictionaries(
    {}, optional={"from": DATES, "to": DATES, "seller": SELLERS}
)
THREAD_IDS = st.one_of(
    st.sampled_from(["1", "2"]),  # the fixture's two threads
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    QUERY_TEXTS.filter(lambda text: text not in ("", ".", "..")).map(
        lambda text: quote(text, safe="")
    ),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/threads",
            "/api/threads/",
            "/api/metrics/sales-quality",
            "/api/metrics/queue",
        ]
    ),
    list_query=LIST_QUERIES,
    figures_query=FIGURES_QUERIES,
    thread_id=THREAD_IDS,
    headers=st.sampled_from([OPERATOR, ACME, GREENLEAF, WAREHOUSE]),
)
def test_any_query_or_id_gets_an_answer_in_json(
    any_app: Flask,
    path: str,
    list_query: dict[str, str],
    figures_query: dict[str, str],
    thread_id: str,
    headers: dict[str, str],
) -> None:
    app, client = any_app, any_app.test_client()
    first, second = app.config["THREADS"]
    if path == "/api/threads/":
        path += {"1": str(first), "2": str(second)}.get(thread_id, thread_id)
        query: dict[str, str] = {}
    else:
        query = list_query if path == "/api/threads" else figures_query
    url = f"{path}?{urlencode(query)}" if query else path
    before = _counts(app)
    with freeze_time("2026-11-26T12:00:00+01:00"):
        response = client.get(url, headers=headers)
    assert response.status_code < 500, (url, response.get_data(as_text=True))
    assert response.is_json, (url, response.get_data(as_text=True))
    assert response.status_code == 200 or "error" in response.get_json()
    assert _counts(app) == before


def test_the_operator_issues_a_new_buyer_link(app: Flask, client: FlaskClient) -> None:
    thread = _open(client)
    tid = thread["id"]
    assert client.post(f"/api/threads/{tid}/buyer-link", headers=GREENLEAF).status_code == 404
    assert client.post(f"/api/threads/{tid}/buyer-link", headers=ACME).status_code == 403
    response = client.post(f"/api/threads/{tid}/buyer-link", headers=OPERATOR)
    assert response.status_code == 200
    link = response.get_json()["buyer_link"]
    assert link.startswith(f"/t/{tid}/") and link != thread["buyer_link"]
    from hotline.messages.threads import buyer_key_ok

    with get_store(app).session() as session:
        row = session.get_one(ThreadRow, tid)
        assert buyer_key_ok(row, link.rsplit("/", 1)[1])
        assert not buyer_key_ok(row, thread["buyer_link"].rsplit("/", 1)[1])


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/api/threads/{id}", "/api/threads/{id}/messages"])
def test_messages_are_never_edited_or_deleted(
    app: Flask, client: FlaskClient, method: str, path: str
) -> None:
    """No endpoint changes or removes a thread or a message once written: 405, nothing changed."""
    thread = _open(client, order="1234567", topic="product_details", text="Is it waterproof?")
    before = _counts(app)
    answer = client.open(
        path.format(id=thread["id"]), method=method, json={"text": "edited"}, headers=OPERATOR
    )
    assert answer.status_code == 405 and answer.get_json()["error"]
    assert _counts(app) == before
    shown = client.get(f"/api/threads/{thread['id']}", headers=OPERATOR).get_json()
    assert [m["body"] for m in shown["messages"] if m["author"] == "buyer"] == ["Is it waterproof?"]
