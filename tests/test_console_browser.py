"""The agents' console in Debian's Chromium: sign in, a caller the IVR queues appears without a
reload, today's queue figures refreshed by the polling, the state buttons (mouse and keyboard),
a wrong token refused, a POST without the session's CSRF token refused."""

from __future__ import annotations

import re

from freezegun import freeze_time
from playwright.sync_api import Page, expect

from hotline.agents.roster import DEMO_TOKEN
from hotline.store import agent_states
from hotline.store.database import get_store
from tests.browser import ServedApp
from tests.conftest import CallActions

OPEN = "2026-11-26T10:00:00+01:00"
# Waits for what the console's polling (every 2 s) brings: generous, as the machine is shared.
POLLED_MS = 15_000


def sign_in(page: Page, served_app: ServedApp, token: str = DEMO_TOKEN) -> None:
    """Open the console, which sends a visitor to the sign-in form, and sign in as demo."""
    page.goto(served_app.url + "/agent")
    expect(page).to_have_url(served_app.url + "/agent/login")
    page.get_by_label("Agent id").fill("demo")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_a_queued_caller_appears_without_a_reload_and_the_state_buttons_work(
    page: Page, served_app: ServedApp
) -> None:
    sign_in(page, served_app)
    expect(page.get_by_role("heading", name=re.compile("Waiting in warehouse"))).to_be_visible()
    expect(page.locator("#queue-empty")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads

    call = CallActions(served_app.app.test_client())
    with freeze_time(OPEN):  # within the hotline's hours
        call.press(call.press(call.start(), "2"), "2")  # warehouse, a delivery problem
    card = page.locator(f'li.caller[data-call="{call.sid}"]')
    expect(card).to_be_visible(timeout=POLLED_MS)
    expect(card.locator('[data-field="from_number"]')).to_have_text("+48******200")
    expect(card.locator('[data-field="topic"]')).to_have_text("an order or delivery")
    expect(card.locator('[data-field="sub_topic"]')).to_have_text(": a delivery problem")
    # The caller's number matches one order: its seller, and no earlier threads of it.
    expect(card.locator('[data-field="order"]')).to_have_text("1234567")
    expect(card.locator('[data-field="seller"]')).to_have_text("Acme Electronics (acme)")
    expect(card.locator('[data-field="threads"]')).to_have_text("none")
    expect(page.locator("#queue-count")).to_have_text("1")
    expect(card.get_by_role("button", name="Take this caller")).to_be_enabled()
    assert page.evaluate("window.sameDocument") is True
    # Today's figures are refreshed by the polling too (the caller above called on a frozen day,
    # not today: the panel's texts are today's zeros, put back over a text the test wrote).
    offered = page.locator('[data-figure="offered"]')
    offered.evaluate("element => { element.textContent = 'stale'; }")
    expect(offered).to_have_text("0", timeout=POLLED_MS)
    expect(page.locator('[data-figure="service_level"]')).to_have_text("\u2014")
    expect(page.get_by_role("table", name="Today per hour (the hours with calls)")).to_contain_text(
        "No calls yet today."
    )

    page.get_by_role("button", name="Available", exact=True).click()
    expect(page.locator("#state")).to_have_text("available")
    with get_store(served_app.app).engine.connect() as conn:
        stored = agent_states.read(conn, "demo")
    assert stored is not None and stored.state == "available"

    offline = page.get_by_role("button", name="Offline", exact=True)
    offline.focus()
    page.keyboard.press("Enter")  # the keyboard alone
    expect(page.locator("#state")).to_have_text("offline")
    expect(page.get_by_role("status")).to_contain_text("Offline: you are offline.")

    # The take endpoint's answer, whatever it is, is shown where a screen reader announces it.
    page.get_by_role("button", name="Take next").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"^Take next: "))
    assert page.evaluate("window.sameDocument") is True


def test_a_wrong_token_is_refused(page: Page, served_app: ServedApp) -> None:
    sign_in(page, served_app, token="not-the-token")
    expect(page.get_by_role("alert")).to_have_text("Wrong agent id or token.")
    page.goto(served_app.url + "/agent/")
    expect(page).to_have_url(served_app.url + "/agent/login")


def test_a_post_without_the_csrf_token_is_refused(page: Page, served_app: ServedApp) -> None:
    sign_in(page, served_app)
    expect(page.locator("#state")).to_have_text("offline")
    # The page's own origin and cookie, without the header the console's script adds.
    status = page.evaluate(
        """() => fetch("/api/agents/demo/state", {
             method: "POST", headers: {"Content-Type": "application/json"},
             body: JSON.stringify({state: "available"})}).then(r => r.status)"""
    )
    assert status == 403
    form_status = page.evaluate(
        """() => fetch("/agent/state", {
             method: "POST", body: new URLSearchParams({state: "available"})
           }).then(r => r.status)"""
    )
    assert form_status == 403
    page.reload()
    expect(page.locator("#state")).to_have_text("offline")
