"""Call flows: the shipped flow, every problem ``check_flow`` and ``parse_flow`` report, the CLI."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotline.cli import cli
from hotline.errors import FlowError
from hotline.ivr.flow import KIND_PROMPTS, PLACEHOLDERS, Flow
from hotline.ivr.flow_file import check_flow, load_flow, parse_flow
from hotline.rules.routing import Topic
from tests.conftest import ROOT

FLOWS = ROOT / "flows"
X = Path("x.toml")
Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def shipped() -> Flow:
    """The shipped ``flows/hotline.toml``."""
    return load_flow(FLOWS, "hotline")


def small_flow() -> dict[str, Any]:
    """A tiny valid flow: a menu leading to a branch, then a goodbye; en and pl prompts."""
    return {
        "flow": {"start": "menu"},
        "steps": {
            "menu": {
                "kind": "menu",
                "prompt": "menu",
                "on_exhausted": "bye",
                "options": [
                    {"key": "1", "next": "check", "phrases": {"en": ["yes"], "pl": ["tak"]}},
                    {"key": "2", "next": "bye", "phrases": {"en": ["no"], "pl": ["nie"]}},
                ],
            },
            "check": {"kind": "branch", "test": "hotline_open", "yes": "bye", "no": "bye"},
            "bye": {"kind": "hangup", "prompt": "goodbye"},
        },
        "languages": {
            "en": {
                "say_language": "en-US",
                "prompts": {"menu": "Press 1 or 2.", "goodbye": "Bye.", "apology": "Sorry."},
            },
            "pl": {
                "say_language": "pl-PL",
                "prompts": {"menu": "Naciśnij 1 lub 2.", "goodbye": "Pa.", "apology": "Ups."},
            },
        },
    }


def test_shipped_flow_has_no_problems(shipped: Flow) -> None:
    assert check_flow(shipped) == []
    assert shipped.start == "main_menu"
    assert shipped.path == FLOWS / "hotline.toml"


def test_shipped_flow_every_step_reachable(shipped: Flow) -> None:
    assert shipped.reachable() == set(shipped.steps)
    assert len(shipped.steps) >= 15


def test_shipped_flow_links_lead_to_steps(shipped: Flow) -> None:
    edges = shipped.edges()
    assert edges
    assert {dst for _, _, dst in edges} <= set(shipped.steps)
    assert ("main_menu", "key 1", "find_order") in edges
    assert ("handoff", "on_failure", "seller_fallback") in edges
    # The warehouse caller's silent order lookup goes on the same way matched or not: one edge.
    assert ("find_order", "matched", "confirm_order") in edges
    assert [e for e in edges if e[0] == "warehouse_order"] == [
        ("warehouse_order", "matched/unmatched", "warehouse_open")
    ]


def test_shipped_flow_en_and_pl_are_complete(shipped: Flow) -> None:
    assert set(shipped.languages) == {"en", "pl"}
    en, pl = shipped.languages["en"], shipped.languages["pl"]
    assert set(en.prompts) == set(pl.prompts)
    needed = {"apology", "goodbye"} | {f"topic_{t.value}" for t in Topic}
    needed |= {name for step in shipped.steps.values() for name in step.prompts.values()}
    assert needed <= set(en.prompts)
    assert set(en.topics) == set(pl.topics) == {t.value for t in Topic}
    assert (en.say_language, pl.say_language) == ("en-US", "pl-PL")
    for step in shipped.steps.values():
        for option in step.options:
            assert option.phrases.get("en") and option.phrases.get("pl"), (step.name, option.key)


def test_shipped_main_menu(shipped: Flow) -> None:
    menu = shipped.step("main_menu")
    assert menu.kind == "menu"
    assert [o.key for o in menu.options] == ["1", "2", "0"]
    assert menu.repeat_key == "*"
    product = menu.option_for_key("1")
    assert product is not None
    assert product.topic is Topic.PRODUCT
    assert "compatible" in product.phrases["en"]
    assert menu.option_for_key("9") is None


def test_small_flow_is_valid() -> None:
    """The baseline every broken flow below departs from."""
    assert check_flow(parse_flow(small_flow(), X)) == []


def _edit(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(small_flow())
    change(data)
    return data


def _steps(data: dict[str, Any]) -> dict[str, Any]:
    steps: dict[str, Any] = data["steps"]
    return steps


def _prompts(data: dict[str, Any], lang: str) -> dict[str, str]:
    prompts: dict[str, str] = data["languages"][lang]["prompts"]
    return prompts


CHECK_PROBLEMS = [
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][0].update(next="nowhere"),
        "steps.menu: key 1 leads to 'nowhere', which is not a step",
        id="dangling-option-next",
    ),
    pytest.param(
        lambda d: _steps(d)["check"].update(no="limbo"),
        "steps.check: no leads to 'limbo', which is not a step",
        id="dangling-link",
    ),
    pytest.param(
        lambda d: _prompts(d, "pl").pop("goodbye"),
        "languages.pl.prompts: missing prompt 'goodbye'",
        id="missing-prompt-in-one-language",
    ),
    pytest.param(
        lambda d: _prompts(d, "en").pop("apology"),
        "languages.en.prompts: missing prompt 'apology'",
        id="missing-global-prompt",
    ),
    pytest.param(
        lambda d: _steps(d).update(orphan={"kind": "hangup", "prompt": "goodbye"}),
        "steps.orphan: unreachable from 'menu'",
        id="unreachable-step",
    ),
    pytest.param(
        lambda d: _prompts(d, "en").update(menu="Hello {name}, press 1."),
        f"languages.en.prompts.menu: unknown placeholder {{name}} "
        f"(known: {', '.join(sorted(PLACEHOLDERS))})",
        id="unknown-placeholder",
    ),
    pytest.param(
        lambda d: _prompts(d, "en").update(menu="Press {} now."),
        f"languages.en.prompts.menu: unknown placeholder {{}} "
        f"(known: {', '.join(sorted(PLACEHOLDERS))})",
        id="positional-placeholder",
    ),
    pytest.param(
        lambda d: _prompts(d, "pl").update(goodbye="Pa { pa"),
        "languages.pl.prompts.goodbye: bad braces (expected '}' before end of string)",
        id="lone-brace",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][1]["phrases"].pop("pl"),
        "steps.menu: option 2 has no phrases for 'pl'",
        id="option-without-phrases",
    ),
    pytest.param(
        lambda d: d["flow"].update(start="hello"),
        "flow.start: no step called 'hello'",
        id="start-not-a-step",
    ),
]


@pytest.mark.parametrize(("mutate", "problem"), CHECK_PROBLEMS)
def test_check_flow_reports(mutate: Mutation, problem: str) -> None:
    problems = check_flow(parse_flow(_edit(mutate), X))
    assert problem in problems


def test_check_flow_reports_every_missing_topic_prompt() -> None:
    data = small_flow()
    _steps(data)["check"] = {
        "kind": "dial_seller",
        "connecting": "goodbye",
        "whisper": "goodbye",
        "on_success": "bye",
        "on_failure": "bye",
        "options": [{"key": "1", "next": "bye", "phrases": {"en": ["yes"], "pl": ["tak"]}}],
    }
    problems = check_flow(parse_flow(data, X))
    expected = [
        f"languages.{lang}.prompts: missing prompt 'topic_{t.value}'"
        for lang in ("en", "pl")
        for t in sorted(Topic, key=lambda t: t.value)
    ]
    assert problems == expected


PARSE_ERRORS = [
    pytest.param(
        lambda d: _steps(d)["bye"].update(colour="red"),
        "x.toml: steps.bye.colour: unknown key",
        id="unknown-step-key",
    ),
    pytest.param(
        lambda d: _steps(d)["bye"].update(kind="dance"),
        f"x.toml: steps.bye.kind: expected one of {', '.join(KIND_PROMPTS)}, got 'dance'",
        id="unknown-kind",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"].pop("on_exhausted"),
        "x.toml: steps.menu.on_exhausted: missing (a menu step needs the next step here)",
        id="missing-link",
    ),
    pytest.param(
        lambda d: _steps(d)["bye"].pop("prompt"),
        "x.toml: steps.bye.prompt: missing (a hangup step needs a prompt name here)",
        id="missing-prompt-name",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"].update(options=[]),
        "x.toml: steps.menu.options: a menu step needs at least one option",
        id="menu-without-options",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][1].update(key="1"),
        "x.toml: steps.menu.options: a key is used twice (1, 1)",
        id="duplicate-option-key",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][0].update(key="12"),
        "x.toml: steps.menu.options[0].key: expected one phone key (0-9, * or #), got '12'",
        id="bad-option-key",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][1].update(key="A"),
        "x.toml: steps.menu.options[1].key: expected one phone key (0-9, * or #), got 'A'",
        id="letter-option-key",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][0].update(topic="weather"),
        f"x.toml: steps.menu.options[0].topic: expected one of "
        f"{', '.join(t.value for t in Topic)}, got 'weather'",
        id="unknown-topic",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"]["options"][0].update(colour="red"),
        "x.toml: steps.menu.options[0].colour: unknown key",
        id="unknown-option-key",
    ),
    pytest.param(
        lambda d: _steps(d)["check"].update(test="moon_phase"),
        "x.toml: steps.check.test: expected one of hotline_open, seller_available, "
        "has_question, got 'moon_phase'",
        id="branch-unknown-test",
    ),
    pytest.param(
        lambda d: _steps(d)["menu"].update(tries=0),
        "x.toml: steps.menu.tries: expected a whole number from 1 to 10, got 0",
        id="tries-out-of-range",
    ),
    pytest.param(
        lambda d: d["flow"].pop("start"),
        "x.toml: flow.start: expected the name of the first step",
        id="no-start",
    ),
    pytest.param(
        lambda d: d.update(languages={}),
        "x.toml: languages: expected at least one [languages.<code>] table",
        id="no-languages",
    ),
    pytest.param(
        lambda d: d["languages"]["en"].pop("say_language"),
        "x.toml: languages.en.say_language: expected a non-empty string, got None",
        id="no-say-language",
    ),
]


@pytest.mark.parametrize(("mutate", "message"), PARSE_ERRORS)
def test_parse_flow_refuses(mutate: Mutation, message: str) -> None:
    with pytest.raises(FlowError) as caught:
        parse_flow(_edit(mutate), X)
    assert str(caught.value) == message


def test_load_flow_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"hotline\.toml: no such flow file"):
        load_flow(tmp_path, "hotline")


def test_load_flow_refuses_a_flow_with_problems(tmp_path: Path) -> None:
    text = (FLOWS / "hotline.toml").read_text(encoding="utf-8")
    (tmp_path / "broken.toml").write_text(
        text.replace('prompt = "goodbye"', 'prompt = "farewell"'), encoding="utf-8"
    )
    with pytest.raises(FlowError) as caught:
        load_flow(tmp_path, "broken")
    assert str(caught.value) == (
        f"{tmp_path / 'broken.toml'}: languages.en.prompts: missing prompt 'farewell'; "
        "languages.pl.prompts: missing prompt 'farewell'"
    )


def test_option_phrases_are_normalised() -> None:
    data = small_flow()
    _steps(data)["menu"]["options"][0]["phrases"]["en"] = ["Where IS my parcel?"]
    option = parse_flow(data, X).step("menu").options[0]
    assert option.phrases["en"] == ("where is my parcel",)


def test_prompt_fills_placeholders(shipped: Flow) -> None:
    text = shipped.prompt("en", "order_confirm", order="1234567", seller="Acme Electronics")
    assert text == (
        "Is your call about order 1234567 from Acme Electronics? "
        "Press 1 for yes, or 2 to enter another order number."
    )
    assert shipped.prompt("pl", "order_unknown", digits="42") == (
        "Przepraszam, nie znalazłam zamówienia 42."
    )


def test_prompt_leaves_missing_placeholders_empty(shipped: Flow) -> None:
    assert shipped.prompt("en", "order_unknown") == "Sorry, I couldn't find order ."


def test_prompt_in_an_unknown_language_falls_back_to_the_first(shipped: Flow) -> None:
    assert shipped.prompt("de", "goodbye") == "Thank you for calling. Goodbye."


@pytest.fixture
def cli_runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A click runner; the env var the Flask CLI sets is restored afterwards."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    return CliRunner()


def test_cli_flows_check_good_file(cli_runner: CliRunner) -> None:
    path = FLOWS / "hotline.toml"
    result = cli_runner.invoke(cli, ["flows", "check", str(path)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert output.startswith("✓ ")
    assert "all reachable; languages en, pl complete" in output
    assert "✗" not in output


def test_cli_flows_check_broken_file(cli_runner: CliRunner, tmp_path: Path) -> None:
    text = (FLOWS / "hotline.toml").read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(text, encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('goodbye = "Dziękujemy', 'farewell = "Dzięki'), "utf-8")
    result = cli_runner.invoke(cli, ["flows", "check", str(good), str(broken)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert "✓" in output
    assert "✗" in output
    assert "languages.pl.prompts: missing prompt 'goodbye'" in output


def test_cli_flows_check_invalid_toml(cli_runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[flow\nstart = 'x'\n", "utf-8")
    result = cli_runner.invoke(cli, ["flows", "check", str(broken)])
    assert result.exit_code == 1
    assert "✗" in result.output
    assert "line 1" in " ".join(result.output.split())
