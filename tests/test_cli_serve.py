"""``hotline serve`` as an operator runs it: real gunicorn on a free loopback port, real sockets.

Forwarded headers obey ``[hotline] trusted_proxies`` alone (gunicorn applies none itself), and a
busy port is refused in one line before the "serving" banner.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from hotline.cli import _bind_address, _check_port_is_free
from hotline.errors import HotlineError
from tests.conftest import AUTH_TOKEN, HOTLINE_NUMBER, ROOT

HOTLINE = str(Path(sys.executable).with_name("hotline"))  # the console script of this venv
# Not a timed assertion: only how long to wait for a server that never answers before failing.
START_DEADLINE_S = 60.0


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def hotline_env() -> dict[str, str]:
    """The environment of the commands: the test token, no config or database from outside."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOTLINE_CONFIG", "HOTLINE_DATABASE_URL", "FORWARDED_ALLOW_IPS")
    }
    env["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    return env


def write_config(folder: Path, trusted_proxies: int) -> Path:
    """The shipped config with its own database in ``folder`` and ``trusted_proxies`` set."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///instance/hotline.db"', 'url = "sqlite:///hotline.db"')
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    text = text.replace("trusted_proxies = 0", f"trusted_proxies = {trusted_proxies}")
    assert f"trusted_proxies = {trusted_proxies}" in text
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Served:
    """A running ``hotline serve``: its port and its process."""

    port: int
    process: subprocess.Popen[bytes]

    def post(self, path: str, form: dict[str, str], headers: dict[str, str]) -> int:
        """POST ``form`` to ``path`` over loopback; the status code."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
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


def wait_until_answering(served: Served, log: Path) -> None:
    """Return once the server answers HTTP; fail with its log if it exits or never does."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"hotline serve exited early:\n{log.read_text(errors='replace')}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
            connection.request("GET", "/no-such-page")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"hotline serve did not answer:\n{log.read_text(errors='replace')}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[int], Served]]:
    """Start ``hotline serve`` (one worker) on a migrated database; stopped after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(trusted_proxies: int) -> Served:
        folder = tmp_path / f"trusted-{trusted_proxies}"
        folder.mkdir()
        config = write_config(folder, trusted_proxies)
        env = hotline_env()
        subprocess.run(
            [HOTLINE, "--config", str(config), "db", "upgrade"], env=env, check=True, timeout=120
        )
        log = folder / "serve.log"
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [HOTLINE, "--config", str(config), "serve", "--port", str(port), "--workers", "1"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        served = Served(port, process)
        wait_until_answering(served, log)
        return served

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def test_no_trusted_proxies_means_no_forwarded_scheme_even_from_loopback(
    serve: Callable[[int], Served],
) -> None:
    served = serve(0)
    form = call_form()
    https_url = f"https://127.0.0.1:{served.port}/voice"
    for claim in HTTPS_CLAIMS:
        headers = {"X-Twilio-Signature": signed_for(https_url, form), **claim}
        assert served.post("/voice", form, headers) == 403, claim
    # A request signed for the URL it really came to still passes.
    plain = {"X-Twilio-Signature": signed_for(f"http://127.0.0.1:{served.port}/voice", form)}
    assert served.post("/voice", form, plain) == 200


def test_one_trusted_proxy_takes_x_forwarded_proto(serve: Callable[[int], Served]) -> None:
    served = serve(1)
    form = call_form()
    https_url = f"https://127.0.0.1:{served.port}/voice"
    headers = {"X-Twilio-Signature": signed_for(https_url, form)}
    assert served.post("/voice", form, {**headers, "X-Forwarded-Proto": "https"}) == 200
    # Only the app's ProxyFix reads forwarded headers: gunicorn's other spellings are ignored.
    assert served.post("/voice", form, {**headers, "X-Forwarded-Ssl": "on"}) == 403


def test_a_busy_port_is_refused_in_one_line_before_the_banner(tmp_path: Path) -> None:
    config = write_config(tmp_path, 0)
    env = hotline_env()
    subprocess.run(
        [HOTLINE, "--config", str(config), "db", "upgrade"], env=env, check=True, timeout=120
    )
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
    assert _bind_address(host, 5000) == bind


def test_an_address_not_on_this_machine_is_refused_in_one_line() -> None:
    with pytest.raises(HotlineError) as refused:
        _check_port_is_free("192.0.2.1", 5000)  # TEST-NET-1: never a local address
    assert str(refused.value) == (
        "cannot serve on 192.0.2.1:5000: no such address on this machine "
        "(try --host 127.0.0.1 or 0.0.0.0)"
    )


def test_a_free_port_passes_the_check() -> None:
    _check_port_is_free("127.0.0.1", free_port())
