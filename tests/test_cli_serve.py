"""``hotline serve`` as an operator runs it: real gunicorn on a free loopback port, real sockets.

Forwarded headers obey ``[hotline] trusted_proxies`` alone (gunicorn applies none itself), and a
busy port is refused in one line before the "serving" banner.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from hotline.errors import HotlineError
from hotline.server import bind_address, check_port_is_free
from tests.conftest import AUTH_TOKEN, HOTLINE_NUMBER
from tests.live_server import (
    HOTLINE,
    LiveServer,
    free_port,
    hotline_env,
    serve_hotline,
    upgrade,
    write_config,
)


def post(server: LiveServer, path: str, form: dict[str, str], headers: dict[str, str]) -> int:
    """POST ``form`` to ``path`` over loopback; the status code."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def call_form() -> dict[str, str]:
    """What Twilio posts to the Voice URL when a call comes in."""
    return {
        "CallSid": "CA00000000000000000000000000000077",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": "+48601100200",
        "To": HOTLINE_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def signed_for(url: str, form: dict[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for ``form`` posted to ``url``."""
    signature: str = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return signature


# gunicorn's default secure_scheme_headers: each would turn wsgi.url_scheme into https for a
# peer in its default forwarded_allow_ips (127.0.0.1, ::1) had hotline not switched them off.
HTTPS_CLAIMS = [
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Ssl": "on"},
    {"X-Forwarded-Protocol": "ssl"},
]


def test_no_trusted_proxies_means_no_forwarded_scheme_even_from_loopback(tmp_path: Path) -> None:
    form = call_form()
    with serve_hotline(tmp_path) as served:
        https_url = f"https://127.0.0.1:{served.port}/voice"
        for claim in HTTPS_CLAIMS:
            headers = {"X-Twilio-Signature": signed_for(https_url, form), **claim}
            assert post(served, "/voice", form, headers) == 403, claim
        # A request signed for the URL it really came to still passes.
        plain = {"X-Twilio-Signature": signed_for(f"{served.url}/voice", form)}
        assert post(served, "/voice", form, plain) == 200


def test_one_trusted_proxy_takes_x_forwarded_proto(tmp_path: Path) -> None:
    form = call_form()
    trusting_one = {"trusted_proxies = 0": "trusted_proxies = 1"}
    with serve_hotline(tmp_path, config_edits=trusting_one) as served:
        https_url = f"https://127.0.0.1:{served.port}/voice"
        headers = {"X-Twilio-Signature": signed_for(https_url, form)}
        assert post(served, "/voice", form, {**headers, "X-Forwarded-Proto": "https"}) == 200
        # Only the app's ProxyFix reads forwarded headers: gunicorn's other spellings are ignored.
        assert post(served, "/voice", form, {**headers, "X-Forwarded-Ssl": "on"}) == 403


def test_a_busy_port_is_refused_in_one_line_before_the_banner(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "hotline.db")
    env = hotline_env()
    upgrade(config, env)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [HOTLINE, "--config", str(config), "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,  # gunicorn's own retry loop would take seconds, not this long
        )
    assert result.returncode != 0
    assert "serving" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "already in use" in lines[0] and "--port" in lines[0]


@pytest.mark.parametrize(
    ("host", "bind"),
    [
        ("127.0.0.1", "127.0.0.1:5000"),
        ("0.0.0.0", "0.0.0.0:5000"),
        ("localhost", "localhost:5000"),
        ("::1", "[::1]:5000"),  # gunicorn reads a bare "::1:5000" as host "" and port ":1"
        ("::", "[::]:5000"),
    ],
)
def test_the_bind_address_gunicorn_is_given(host: str, bind: str) -> None:
    assert bind_address(host, 5000) == bind


def test_an_address_not_on_this_machine_is_refused_in_one_line() -> None:
    with pytest.raises(HotlineError) as refused:
        check_port_is_free("192.0.2.1", 5000)  # TEST-NET-1: never a local address
    assert str(refused.value) == (
        "cannot serve on 192.0.2.1:5000: no such address on this machine "
        "(try --host 127.0.0.1 or 0.0.0.0)"
    )


def test_a_free_port_passes_the_check() -> None:
    check_port_is_free("127.0.0.1", free_port())
