"""hotline's Flask class: Flask's answers about async functions, kept per function."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from flask import Flask

from hotline.web.flask_app import _SYNCED_KEPT, HotlineFlask


def plain() -> str:
    return "plain"


async def coroutine() -> str:
    return "coroutine"


def flask_answer(func: Callable[..., Any]) -> Callable[..., Any] | type[BaseException]:
    """What Flask's own ``ensure_sync`` gives for ``func`` (or the error it raises)."""
    try:
        return Flask(__name__).ensure_sync(func)
    except Exception as exc:  # noqa: BLE001 — without Flask's async extra it refuses
        return type(exc)


@pytest.mark.parametrize("func", [plain, coroutine], ids=["a plain function", "an async one"])
def test_each_function_gets_flasks_answer_every_time(func: Callable[..., Any]) -> None:
    app = HotlineFlask(__name__)
    expected = flask_answer(func)

    for _ in range(3):  # the first answer, then the kept one
        if isinstance(expected, type):
            with pytest.raises(expected):
                app.ensure_sync(func)
        elif expected is func:
            assert app.ensure_sync(func) is func
        else:  # an async function, wrapped to run to completion
            assert app.ensure_sync(func)() == "coroutine"


def test_hooks_and_views_run_through_the_kept_answers() -> None:
    app = HotlineFlask(__name__)
    seen: list[str] = []
    app.before_request(lambda: seen.append("before") and None)
    app.teardown_request(lambda _exc: seen.append("teardown") and None)
    app.add_url_rule("/", "index", lambda: "index")
    client = app.test_client()

    answers = [client.get("/").get_data(as_text=True) for _ in range(3)]

    assert answers == ["index"] * 3
    assert seen == ["before", "teardown"] * 3


def test_answers_are_kept_for_a_bounded_number_of_functions() -> None:
    app = HotlineFlask(__name__)
    made = [partial(plain) for _ in range(_SYNCED_KEPT + 10)]  # distinct functions

    assert all(app.ensure_sync(func) is func for func in made)
    assert len(app._synced) == _SYNCED_KEPT
    assert app.ensure_sync(made[-1]) is made[-1]  # one not kept is still answered
