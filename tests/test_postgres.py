"""The store on PostgreSQL: migrations, a whole call, one thread per call, a restart mid-call.

Runs when ``$HOTLINE_TEST_POSTGRES_URL`` names a server where the user may create databases
(``.ci/run`` starts one); each run works in a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hotline import create_app
from hotline.config.settings import load_settings
from hotline.errors import StoreError
from hotline.store import database as store_module
from hotline.store.callstate import CallState
from hotline.store.callstore import CallWork
from hotline.store.database import Store, get_store, upgrade_schema
from hotline.store.models import OrderRow, OutboxRow, ThreadRow
from tests.conftest import CallActions

ADMIN_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not ADMIN_URL, reason="set HOTLINE_TEST_POSTGRES_URL to a PostgreSQL server (.ci/run does)"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    assert ADMIN_URL is not None
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_call_on_postgres_opens_one_thread_and_survives_a_restart(
    config: dict[str, Any], pg_url: str
) -> None:
    upgrade_schema(pg_url)
    config["store"]["url"] = pg_url
    app = create_app(config)
    call = CallActions(app.test_client())
    with freeze_time("2026-11-26T22:30:00+01:00"):
        menu = call.start()
        asked = call.press(call.press(menu, "1"), "1")
        fallback = call.say(asked, "Is it dishwasher safe?")
        get_store(app).engine.dispose()
        restarted = create_app(config)  # another process picks up the same call
        call.client = restarted.test_client()
        done = call.press(fallback, "2")
        retry = call.press(fallback, "2")
    assert "reference 0 0 0 1" in done.said
    assert retry.said == done.said
    with get_store(restarted).session() as session:
        [thread] = session.scalars(select(ThreadRow)).all()
        assert thread.messages[0].body == "Is it dishwasher safe?"
        assert thread.seller_id == "acme"
        # the seller's notification and the buyer's SMS
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 2
    get_store(restarted).engine.dispose()


def test_two_webhooks_of_one_call_interleave_even_under_repeatable_read(pg_url: str) -> None:
    # The status callback can land while another webhook of the call is mid-turn: the first one's
    # read must not keep a transaction (and its snapshot) open until its write.
    admin = create_engine(ADMIN_URL or "", isolation_level="AUTOCOMMIT")
    database = make_url(pg_url).database
    with admin.connect() as conn:
        isolation = "SET default_transaction_isolation = 'repeatable read'"
        conn.execute(text(f'ALTER DATABASE "{database}" {isolation}'))
    admin.dispose()
    upgrade_schema(pg_url)
    store = Store(pg_url)
    start = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    try:
        with CallWork(store) as work:
            work.save(CallState("CA1", "en", start, start, "main_menu"), "incoming", None, "menu")
        with CallWork(store) as first:
            call = first.load("CA1")
            assert call is not None
            with CallWork(store) as second:
                ended = second.load("CA1")
                assert ended is not None
                ended.outcome = "ended:completed"
                second.save(ended, "status", None, "status completed")
            call.step = "confirm_order"
            first.save(call, "main_menu", "digits=1", "confirm_order")
        with CallWork(store) as check:
            stored = check.load("CA1")
        assert stored is not None
        assert (stored.step, stored.outcome) == ("confirm_order", "ended:completed")
    finally:
        store.engine.dispose()


def test_workers_starting_together_both_sync_the_directory(
    config: dict[str, Any], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both read a fresh database as stale before either writes: one insert collides.
    upgrade_schema(pg_url)
    settings = load_settings({**config, "store": {**config["store"], "url": pg_url}})
    both_read = threading.Barrier(2, timeout=10)
    first_reads = [1, 2]  # each worker's first read waits for the other's; later ones go on
    read = store_module._differing

    def differing_then_wait(session: Any, model: Any, rows: Any) -> Any:
        found = read(session, model, rows)
        if model is OrderRow and first_reads:
            first_reads.pop()
            both_read.wait()
        return found

    monkeypatch.setattr(store_module, "_differing", differing_then_wait)
    failures: list[BaseException] = []

    def start_worker() -> None:
        worker_store = Store(pg_url)
        try:
            store_module.sync_directory(worker_store, settings)
        except BaseException as exc:  # noqa: BLE001 — reported by the assertion below
            failures.append(exc)
        finally:
            worker_store.engine.dispose()

    workers = [threading.Thread(target=start_worker) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    check = Store(pg_url)
    with check.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == len(settings.orders)
    check.engine.dispose()


def test_postgres_refuses_an_unmigrated_database_then_is_healthy(
    config: dict[str, Any], pg_url: str
) -> None:
    config["store"]["url"] = pg_url
    with pytest.raises(StoreError) as refused:
        create_app(config)
    assert "`hotline db upgrade`" in str(refused.value)
    # Named by its URL with the password masked (the message is printed and logged).
    assert make_url(pg_url).render_as_string(hide_password=True) in str(refused.value)
    upgrade_schema(pg_url)
    app = create_app(config)
    try:
        assert get_store(app).file is None  # no file to watch on PostgreSQL
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["status"] == "ok"
    finally:
        get_store(app).engine.dispose()
