"""The browser-test chain: Debian's Chromium, driven by Playwright, loads hotline over real HTTP.

Also: without the executable the browser tests skip saying how to install it (fail under CI).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from hotline.store.database import head_revision
from tests.browser import CHROMIUM_ENV, ServedApp, chromium_path, require_chromium, under_ci

# The inner run needs none of these: fewer imports (hypothesis's costs a second when alone).
NO_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:hotline_sim")


def test_chromium_loads_the_health_json_from_a_served_app(
    page: Page, served_app: ServedApp
) -> None:
    response = page.goto(served_app.url + "/healthz")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "application/json"
    # Chromium shows a JSON answer as the page's text: what a person opening the URL sees.
    shown = json.loads(page.inner_text("body"))
    assert shown == {"status": "ok", "schema": head_revision(), "flow": "hotline"}
    assert "HeadlessChrome/" in page.evaluate("navigator.userAgent")


def _not_executable(folder: Path) -> str:
    path = folder / "chromium"
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "make_path",
    [
        pytest.param(lambda folder: str(folder / "nowhere"), id="nothing there"),
        pytest.param(lambda folder: str(folder), id="a folder"),
        pytest.param(_not_executable, id="a file without the x bit"),
    ],
)
def test_no_executable_skips_saying_how_to_install_it_and_fails_under_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_path: Callable[[Path], str]
) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, make_path(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_chromium(chromium_path())
    reason = str(skipped.value)
    assert f"no Chromium executable at {make_path(tmp_path)}" in reason
    assert "apt-get install chromium" in reason and CHROMIUM_ENV in reason
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="never skip in CI"):
        require_chromium(chromium_path())


@pytest.mark.parametrize(
    ("value", "is_ci"),
    [("true", True), ("1", True), ("TRUE", True), ("", False), ("false", False), ("0", False)],
)
def test_ci_is_told_by_the_ci_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, is_ci: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert under_ci() is is_ci


def test_the_browser_fixture_skips_a_test_when_the_path_points_nowhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through pytest itself, with the fixtures as registered here: the session fixture skips
    # (an error would fail the run) and -ra prints the reason in the summary.
    nowhere = pytester.path / "no-chromium"
    monkeypatch.setenv(CHROMIUM_ENV, str(nowhere))
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest('pytest_plugins = ["tests.browser"]')
    pytester.makepyfile("def test_needs_a_browser(browser):\n    assert False\n")
    result = pytester.runpytest_inprocess("-ra", *NO_PLUGINS)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [f"SKIPPED [[]1[]] *: no Chromium executable at {nowhere}: install Debian's (apt-get*"]
    )
