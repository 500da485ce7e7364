"""The app's URL rules build their URLs only when asked, and build what Werkzeug would."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import IntegerConverter, Map, PathConverter, Rule

from hotline import create_app
from hotline.web.routing import LazyBuildRule

# A value for each kind of placeholder the app's rules have, with characters that need quoting.
SAMPLES: dict[type, Any] = {IntegerConverter: 42, PathConverter: "a b/ć"}


def _values(rule: Rule) -> dict[str, Any]:
    return {
        name: SAMPLES.get(type(converter), "x y/ż") for name, converter in rule._converters.items()
    }


def _eager_twin(rule: Rule, app: Flask) -> Rule:
    """The same rule as a plain Werkzeug ``Rule``, bound to a map of its own."""
    twin = Rule(rule.rule, **rule.get_empty_kwargs())
    Map([twin], converters=app.url_map.converters)
    return twin


def test_every_rule_builds_what_werkzeug_builds(app: Flask) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 40  # the whole app, not a part of it
    for rule in rules:
        assert isinstance(rule, LazyBuildRule), rule.rule
        twin = _eager_twin(rule, app)
        values = _values(rule)
        with_unknown = {**values, "attempt": "2", "note": "ą&b"}
        # Twice each: the first build compiles the builder, the second uses the compiled one.
        for _ in range(2):
            assert rule.build(values, append_unknown=False) == twin.build(
                values, append_unknown=False
            ), rule.rule
            assert rule.build(with_unknown) == twin.build(with_unknown), rule.rule


def test_url_for_gives_the_webhook_urls(app: Flask) -> None:
    with app.test_request_context():
        assert url_for("voice.incoming") == "/voice"
        assert url_for("voice.step_answer", name="main_menu", attempt=2) == (
            "/voice/step/main_menu?attempt=2"
        )


def test_building_the_app_compiles_no_url_builder(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[str] = []
    werkzeug_compile = Rule._compile_builder

    def counting(rule: Rule, append_unknown: bool = True) -> Any:
        compiled.append(rule.rule)
        return werkzeug_compile(rule, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    app = create_app(config)
    # Flask's own static route is added before the app is told which rules to use.
    assert [rule for rule in compiled if not rule.startswith("/static")] == []
    with app.test_request_context():
        url_for("voice.queue_wait")
    assert compiled[-1:] == ["/voice/queue/wait"]
