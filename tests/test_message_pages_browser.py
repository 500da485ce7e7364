"""The Message Center's pages in Debian's Chromium: a seller signs in, sees the unanswered
first, replies and forwards a Discussion to the warehouse with a note; the warehouse sees it and
answers; the buyer's link shows both answers and not the note. And by keyboard alone: sign in,
a reply over the 2,000-character limit refused with the reason, what was typed kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import Browser, Page, expect

from hotline.agents.roster import DEMO_TOKEN
from hotline.messages.demo import seed_demo
from hotline.store.database import get_store
from hotline.web import webhook
from tests.browser import ServedApp

SELLER_TOKEN = "demo-seller-token"
DISCUSSION = 3  # the demo's unanswered Discussion


def seeded(served_app: ServedApp) -> list[str]:
    """The demo's threads in the served app's store; the buyers' links."""
    app = served_app.app
    with get_store(app).session() as session:
        opened = seed_demo(session, app.extensions[webhook.SETTINGS], datetime.now(UTC))
        return [o.buyer_link for o in opened]


def sign_in(page: Page, served_app: ServedApp, token: str) -> None:
    page.goto(served_app.url + "/messages")
    expect(page).to_have_url(served_app.url + "/messages/login")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Message Center")).to_be_visible()


def test_seller_replies_and_forwards_the_warehouse_answers_the_buyer_reads(
    page: Page, browser: Browser, served_app: ServedApp
) -> None:
    links = seeded(served_app)
    sign_in(page, served_app, SELLER_TOKEN)
    assigned = page.locator("#assigned tbody tr")
    expect(assigned).to_have_count(3)
    expect(assigned.first).to_have_attribute("data-thread", str(DISCUSSION))  # unanswered first
    expect(assigned.first.locator(".standing")).to_have_text(re.compile(r"^18 h 5\d min left$"))
    expect(page.locator("#followed .standing")).to_have_text(re.compile(r"^overdue by "))
    expect(page.locator("#timely-responses")).to_have_text("33 %")

    assigned.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "#0003 · Discussion: defect during use"
    )
    page.get_by_label(re.compile("^Your reply")).fill("Please send us a photo of the label.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#messages li").last).to_contain_text("Please send us a photo")
    page.get_by_label(re.compile("^Note for the warehouse")).fill("Check the parcel's state first.")
    page.get_by_role("button", name="Forward to the warehouse").click()
    expect(page.locator("#assigned")).to_have_text("warehouse")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#messages li.note")).to_contain_text("Check the parcel's state first.")

    warehouse = browser.new_context().new_page()
    try:
        sign_in(warehouse, served_app, DEMO_TOKEN)
        row = warehouse.locator(f'#assigned tr[data-thread="{DISCUSSION}"]')
        expect(row).to_be_visible()
        row.get_by_role("link").click()
        expect(warehouse.locator("#messages li.note")).to_contain_text("Check the parcel's state")
        warehouse.get_by_label(re.compile("^Your reply")).fill("The courier will collect it.")
        warehouse.get_by_role("button", name="Send reply").click()
        expect(warehouse.locator("#standing")).to_have_text("answered")
    finally:
        warehouse.context.close()

    buyer = browser.new_context().new_page()
    try:
        buyer.goto(served_app.url + links[DISCUSSION - 1])
        messages = buyer.locator("#messages")
        expect(messages).to_contain_text("Please send us a photo of the label.")
        expect(messages).to_contain_text("The courier will collect it.")
        expect(messages).not_to_contain_text("Check the parcel")  # the note
        buyer.get_by_label(re.compile("^Your message")).fill("Here it is.")
        buyer.get_by_role("button", name="Send").click()
        expect(messages.locator("li").last).to_contain_text("Here it is.")
    finally:
        buyer.context.close()


def test_by_keyboard_a_reply_over_the_limit_is_refused_with_the_reason(
    page: Page, served_app: ServedApp
) -> None:
    seeded(served_app)
    page.goto(served_app.url + "/messages/login")
    expect(page.get_by_label("Token")).to_be_focused()  # autofocus
    page.keyboard.type(SELLER_TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Message Center")).to_be_visible()
    page.goto(f"{served_app.url}/messages/{DISCUSSION}")
    reply = page.get_by_label(re.compile("^Your reply"))
    reply.focus()
    page.keyboard.insert_text("x" * 2001)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send reply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text('"text" is 2001 characters long; at most 2000')
    expect(page.get_by_label(re.compile("^Your reply"))).to_have_value("x" * 2001)
