"""Browser tests: Playwright driving Debian's Chromium against the app served on a real port.

Fixtures (registered by ``tests/conftest.py``):

- ``browser``: one headless Chromium for the whole session, started from ``/usr/bin/chromium``
  (Debian's package; ``$HOTLINE_TEST_CHROMIUM`` names another executable). Playwright never
  downloads a browser of its own here. Without the executable the test is skipped, saying how
  to install it; under CI (``$CI`` set, as ``.ci/run`` runs), where the browser is installed,
  it fails instead, so a broken set-up cannot pass as skipped tests.
- ``page``: a new browser context (its own cookies and storage) and page for each test, closed
  after it.
- ``served_app``: the ``app`` fixture (shipped config, this test's database) served by
  werkzeug's threaded server on a free loopback port, in this process, stopped after the test:
  a real HTTP server that starts in milliseconds, and whose app the test can also reach
  directly (its store, an in-process simulator). For gunicorn and several workers, use
  ``tests/live_server.py``'s ``serve_hotline``.

    def test_x(page: Page, served_app: ServedApp) -> None:
        page.goto(served_app.url + "/healthz")
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM_ENV = "HOTLINE_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# As root on a machine whose network reaches nothing: no sandbox (it needs a non-root user),
# no GPU, and none of the browser's own traffic (updates, sync, field trials, QUIC probes),
# whose refused connections slow every start. Playwright adds a new empty --user-data-dir of
# its own (it refuses one in these arguments) and deletes it when the browser closes.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str:
    """The Chromium executable the tests start: ``$HOTLINE_TEST_CHROMIUM`` or Debian's."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def missing_chromium(path: str) -> str | None:
    """Why ``path`` cannot be started as the browser, or None when it is an executable file."""
    if Path(path).is_file() and os.access(path, os.X_OK):
        return None
    return (
        f"no Chromium executable at {path}: install Debian's (apt-get install chromium)"
        f" or set {CHROMIUM_ENV} to one"
    )


def under_ci() -> bool:
    """Whether ``$CI`` says this is a CI run (CI runs ``.ci/run`` with ``CI=true``)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def require_chromium(path: str) -> None:
    """Skip the test when ``path`` is no executable; fail instead under CI, which installs it."""
    reason = missing_chromium(path)
    if reason is None:
        return
    if under_ci():
        pytest.fail(f"{reason} (.ci/run installs it: browser tests never skip in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session, started once (skipped when it is not installed)."""
    path = chromium_path()
    require_chromium(path)  # before Playwright's driver starts: a skip costs nothing
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=path, args=list(CHROMIUM_FLAGS))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a new context of its own (no cookies or storage from other tests)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@dataclass
class ServedApp:
    """A Flask app answering HTTP on a loopback port: its URL and the app itself."""

    app: Flask
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.server.server_port}"


def serve_in_thread(app: Flask) -> tuple[BaseWSGIServer, threading.Thread]:
    """``app`` on werkzeug's threaded server at a port the kernel picks, serving in a thread."""
    # Port 0: the kernel picks a free port as the socket binds, so no other process can take it
    # between a pick and the bind.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="served-app", daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def served_app(app: Flask) -> Iterator[ServedApp]:
    """The ``app`` fixture served over real HTTP on loopback, stopped when the test ends."""
    server, thread = serve_in_thread(app)
    try:
        yield ServedApp(app, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
