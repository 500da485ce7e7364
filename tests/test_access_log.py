"""No buyer's link secret and no phone number in a log line: the redaction's cases, and ``hotline
serve``'s real access log after a buyer opened their page (the page's own requests carry it as
their Referer) and after a webhook came as a GET, the caller's number in its query."""

from __future__ import annotations

import http.client
import re
import subprocess
from pathlib import Path

import pytest

from hotline.messages.threads import without_link_secrets
from tests.conftest import SECRET_KEY
from tests.live_server import HOTLINE, hotline_env, serve_hotline, upgrade, write_config

SECRET = "D-_mqpHK1nskI5-a7rMipoo5sDZ3PXqA"


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"GET /t/12/{SECRET} HTTP/1.1", "GET /t/12/… HTTP/1.1"),
        (f"POST /t/1/{SECRET}?x=1 HTTP/1.1", "POST /t/1/…?x=1 HTTP/1.1"),
        (f"https://hotline.example.com/t/3/{SECRET}", "https://hotline.example.com/t/3/…"),
        (f"/messages/login?next=%2Ft%2F3%2F{SECRET}&a=b", "/messages/login?next=%2Ft%2F3%2F…&a=b"),
        (f"next=%2ft%2f3%2f{SECRET}", "next=%2ft%2f3%2f…"),
        (f"/t/1/{SECRET} then /t/2/{SECRET}x", "/t/1/… then /t/2/…"),
        # Nothing else is touched: other pages, webhooks, a path that is no buyer's link.
        ("/messages/3", "/messages/3"),
        ("/voice/step/main_menu?attempt=1", "/voice/step/main_menu?attempt=1"),
        ("/t/x/abc", "/t/x/abc"),
        ("/t/5/", "/t/5/"),
        ("/att/1/2", "/att/1/2"),
        ("-", "-"),
    ],
)
def test_a_links_secret_is_left_out_and_nothing_else_changes(text: str, logged: str) -> None:
    assert without_link_secrets(text) == logged


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """GET ``path`` over loopback: the status and the headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def test_hotline_serve_logs_no_links_secret_and_no_callers_number(tmp_path: Path) -> None:
    env = hotline_env({"HOTLINE_SECRET_KEY": SECRET_KEY})
    database = tmp_path / "hotline.db"
    config = write_config(tmp_path, database)
    upgrade(config, env)
    seeded = subprocess.run(
        [HOTLINE, "--config", str(config), "demo", "seed"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,  # a guard for a hung command, not a measurement
    ).stdout
    links = re.findall(r"/t/\d+/[\w-]+", seeded)
    assert links, seeded
    link = links[0]
    secret = link.rsplit("/", 1)[1]
    with serve_hotline(
        tmp_path, database=database, env={"HOTLINE_SECRET_KEY": SECRET_KEY}
    ) as served:
        status, headers = get(served.port, link, {})
        assert status == 200
        assert headers["Referrer-Policy"] == "no-referrer"
        # What a browser without that policy would send for the page's stylesheet.
        page_url = f"{served.url}{link}"
        css = "/messages/static/messages.css"
        assert get(served.port, css, {"Referer": page_url})[0] == 200
        assert get(served.port, f"{link}?lang=pl", {})[0] == 200
        # A Voice URL set to GET in Twilio's console: the caller's number in the query (the
        # caller hears the apology, as for any request a webhook cannot be).
        assert get(served.port, "/voice?CallSid=CA1&From=%2B48601100200", {})[0] == 200  # TwiML
    log = served.log()
    short = link.rsplit("/", 1)[0] + "/…"
    assert f'"GET {short} HTTP/1.1" 200' in log
    assert f'"GET {css} HTTP/1.1" 200' in log and f'"{served.url}{short}"' in log
    assert f'"GET {short}?lang=pl HTTP/1.1" 200' in log
    assert secret not in log
    assert '"GET /voice?CallSid=CA1&From=%2B********200 HTTP/1.1" 200' in log
    assert "601100200" not in log
