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


# gunicorn's default access line, and the values it reads (what gunicorn's atoms hold).
LINE = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s %({Referer}i)s'
ATOMS = {
    "h": "127.0.0.1",
    "l": "-",
    "u": "-",
    "t": "[30/Nov/2026:20:07:25 +0000]",
    "s": "200",
    "b": "12345678",  # a body's size, not a phone number
    "a": "Mozilla/5.0 (Linux; Android 14; Build/UP1A.2310007)",
    "p": "<4194304>",
}


@pytest.mark.parametrize(
    ("request_line", "referer", "shown"),
    [
        (
            f"GET /t/1/{SECRET} HTTP/1.1",
            "-",
            f'"GET /t/1/… HTTP/1.1" 200 12345678 "-" "{ATOMS["a"]}" <4194304> -',
        ),
        (
            "GET /messages/static/messages.css HTTP/1.1",
            f"https://h.example/t/2/{SECRET}",
            '"GET /messages/static/messages.css HTTP/1.1" 200 12345678 '
            f'"https://h.example/t/2/…" "{ATOMS["a"]}" <4194304> https://h.example/t/2/…',
        ),
        (
            "GET /voice?From=%2B48601100200&To=%2B442071000000 HTTP/1.1",
            "-",
            '"GET /voice?From=%2B********200&To=%2B*********000 HTTP/1.1" 200 12345678 "-" '
            f'"{ATOMS["a"]}" <4194304> -',
        ),
    ],
)
def test_an_access_line_hides_links_and_numbers_and_only_them(
    request_line: str, referer: str, shown: str
) -> None:
    from hotline.access_log import AccessLog

    atoms = {**ATOMS, "r": request_line, "f": referer}
    if referer != "-":
        atoms["{referer}i"] = referer
    line = LINE % AccessLog.atoms_wrapper_class(atoms)
    assert line == f"127.0.0.1 - - [30/Nov/2026:20:07:25 +0000] {shown}"


def test_a_request_gunicorn_fails_to_handle_is_logged_without_secret_or_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gunicorn.config import Config

    from hotline.access_log import AccessLog

    log = AccessLog(Config())  # its error log goes to stderr, as under `hotline serve`
    try:
        raise RuntimeError("a worker's bug")
    except RuntimeError:
        log.exception("Error handling request %s", f"/t/3/{SECRET}?From=%2B48601100200")
    err = capsys.readouterr().err
    assert "Error handling request /t/3/…?From=%2B********200" in err
    assert SECRET not in err and "601100200" not in err
    assert "RuntimeError: a worker's bug" in err  # the traceback is still there


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
