"""An exception escaping the app under test: the call ends as on Twilio, the report shows why.

Under a WSGI server an app that raises answers 500 (Twilio's 11200: the fallback URL, else its
"application error" and the call fails); one that raises after part of its answer is out can
only close the connection (11205). In-process the simulator does the same, and puts what the app
raised (its traceback, which Flask logs to ``wsgi.errors``) in the transcript where the call met
it, after what the caller heard until then. An app that cannot be imported or built is named.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from hotline.sim.engine.http_transport import HTTPTransport
from hotline.sim.engine.simulator import CallResult, Simulator
from hotline.sim.engine.transport import Transport, WSGITransport
from hotline.sim.frontends.pytest_plugin import PhoneCall
from hotline.sim.frontends.replay import replay
from hotline.sim.model import AppUnusable, CallEnd, ExpectationFailed, Who
from hotline.sim.run.connection import load_app
from hotline.sim.run.runner import Target
from tests.sim_twilio_apps import AUTH_TOKEN, create_crashing_app
from tests.test_sim_engine import AT, BUYER, HOTLINE, ScriptCaller, digits

Dial = Callable[..., PhoneCall]
APPS = [
    "tests.sim_twilio_apps:create_crashing_app",
    "tests.sim_twilio_apps:create_crashing_test_app",
]
SCRIPT = """\
[call]
at = "2026-03-30T10:00:00+02:00"
from = "+48601100200"
to = "+48221000000"
[[steps]]
hear = "press 1 for your order"
[[steps]]
press = "1"
{expect}
"""


def _call(app: Flask, voice_url: str = "/voice", **options: str) -> CallResult:
    sim = Simulator(WSGITransport(app), AUTH_TOKEN, voice_url, **options)
    return sim.place_call(ScriptCaller([digits("1")]), AT, BUYER, HOTLINE)


@pytest.mark.parametrize("testing", [False, True])
def test_an_app_that_raises_answers_500_and_the_call_fails(
    testing: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _call(create_crashing_app(testing=testing))

    assert result.ended is CallEnd.FAILED
    assert result.heard() == ["Press 1 for your order."]
    apology = [e.text for e in result.events("say") if e.who is Who.TWILIO]
    assert apology == ["We are sorry, an application error has occurred. Goodbye."]
    assert "POST http://localhost/menu answered 500" in str(result.error)
    [crash] = result.events("app-error")
    assert crash.who is Who.APP and crash.url == "http://localhost/menu"
    assert crash.text == "RuntimeError: the order database is gone"
    assert 'sim_twilio_apps.py", line' in crash.detail["traceback"]
    assert "transport.py" not in crash.detail["traceback"]  # the app's frames, not ours
    assert "the order database is gone" not in capsys.readouterr().err  # in the report instead


def test_a_crash_goes_to_the_voice_fallback_url_with_11200() -> None:
    result = _call(create_crashing_app(), fallback_url="/fallback")

    assert result.ended is CallEnd.COMPLETED
    assert result.heard()[-1] == "Sorry, error 11200."


@pytest.fixture(params=["wsgi", "http"])
def reach(request: pytest.FixtureRequest) -> Iterator[tuple[Transport, str]]:
    """The crashing app in-process or behind a real server: (transport, base URL)."""
    app = create_crashing_app()
    if request.param == "wsgi":
        yield WSGITransport(app), "http://localhost"
        return
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    transport = HTTPTransport(base, public_url=base)
    try:
        yield transport, base
    finally:
        transport.close()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_crash_after_part_of_the_answer_is_a_broken_connection(
    reach: tuple[Transport, str],
) -> None:
    transport, base = reach
    sim = Simulator(transport, AUTH_TOKEN, "/streamed", base, fallback_url="/fallback")

    result = sim.place_call(ScriptCaller(), AT, BUYER, HOTLINE)

    # Over a socket the server sent a 200 and part of the body, then closed: 11205, as in-process.
    assert result.heard() == ["Sorry, error 11205."]
    [fallback] = result.events("fallback")
    assert fallback.detail["ErrorCode"] == "11205"


def test_in_process_the_mid_answer_crash_is_reported() -> None:
    result = _call(create_crashing_app(), "/streamed")

    assert result.ended is CallEnd.FAILED
    assert "after part of its answer: the connection closed mid-answer" in str(result.error)
    [crash] = result.events("app-error")
    assert crash.text == "RuntimeError: the order database went away mid-answer"


def test_what_the_app_logs_on_a_good_request_still_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = _call(create_crashing_app(), "/logs")

    assert result.heard() == ["All good."]
    assert result.events("app-error") == []
    assert "a note the app logs on a good request" in capsys.readouterr().err


@pytest.mark.parametrize("app", APPS)
def test_replay_reports_the_crash_after_what_was_heard(tmp_path: Path, app: str) -> None:
    script = tmp_path / "crash.toml"
    script.write_text(SCRIPT.format(expect='[expect]\nended = "failed"'))
    unexpected = tmp_path / "unexpected.toml"
    unexpected.write_text(SCRIPT.format(expect=""))
    options = ["--app", app, "--auth-token", AUTH_TOKEN]

    expected = CliRunner().invoke(replay, [str(script), *options, "-v"])
    failed = CliRunner().invoke(replay, [str(unexpected), *options])

    assert expected.exit_code == 0, expected.output
    assert failed.exit_code == 1
    for output in (expected.output, failed.output):
        said = output.index("app     says 'Press 1 for your order.'")
        raised = output.index("app     raised RuntimeError: the order database is gone")
        assert said < raised < output.index("call ended: failed")
        assert 'sim_twilio_apps.py", line' in output
    assert "✗ unexpected: " in failed.output and "the call failed: POST" in failed.output


@pytest.mark.parametrize("hotline_sim_target", [Target(auth_token=AUTH_TOKEN, app=APPS[1])])
def test_dial_shows_the_crash_too(dial: Dial) -> None:
    call = dial(at="2026-03-30T10:00:00+02:00")
    call.hears("press 1").press("1").ended("failed")

    with pytest.raises(ExpectationFailed) as failed:
        call.hears("your order is on its way")
    assert "raised RuntimeError: the order database is gone" in str(failed.value)


def test_a_factory_that_raises_is_named_with_the_apps_traceback() -> None:
    with pytest.raises(AppUnusable) as unusable:
        load_app("tests.sim_twilio_apps:create_nothing")

    message = str(unusable.value)
    assert message.startswith(
        "--app 'tests.sim_twilio_apps:create_nothing': the factory raised KeyError: 'DATABASE_URL'"
    )
    assert 'sim_twilio_apps.py", line' in message and "connection.py" not in message


def test_an_app_that_raises_on_import_stops_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_on_import.py").write_text('raise RuntimeError("no config here")\n')
    script = tmp_path / "call.toml"
    script.write_text(SCRIPT.format(expect=""))
    monkeypatch.chdir(tmp_path)  # --app modules are imported from where the command runs
    monkeypatch.syspath_prepend(str(tmp_path))

    result = CliRunner().invoke(replay, [str(script), "--app", "broken_on_import:create_app"])

    assert result.exit_code == 2
    assert (
        "--app 'broken_on_import:create_app': importing broken_on_import raised RuntimeError:"
        " no config here" in result.output
    )
    assert 'broken_on_import.py", line 1, in <module>' in result.output
