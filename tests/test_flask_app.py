"""hotline's Flask class: Flask's answers about async functions, kept per function."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from flask import Flask

from hotline.web.flask_app import HotlineFlask


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


@dataclass(eq=True)
class CallableRecord:
    """A callable Flask accepts that cannot be remembered (equal by value: not hashable)."""

    name: str

    def __call__(self) -> str:
        return self.name


def test_a_callable_that_cannot_be_remembered_gets_flasks_answer() -> None:
    app = HotlineFlask(__name__)
    record = CallableRecord("record")

    assert app.ensure_sync(record) is record
    assert app.ensure_sync(record) is record


def test_a_function_made_per_request_is_not_kept() -> None:
    app = HotlineFlask(__name__)
    made = partial(plain)
    gone = weakref.ref(made)

    assert app.ensure_sync(made) is made
    assert len(app._plain) == 1
    del made
    gc.collect()

    assert gone() is None
    assert len(app._plain) == 0
