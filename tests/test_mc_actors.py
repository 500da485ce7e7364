"""Who a Message Center bearer token names: the operator, a warehouse agent, a seller, nobody."""

from __future__ import annotations

import pytest
from flask import Flask

from hotline.config.settings import load_settings
from hotline.messages.visibility import Viewer
from hotline.web.mc_actors import seller_holding, viewer_of
from tests.conftest import API_TOKEN, ROOT


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (API_TOKEN, Viewer("operator")),
        ("demo-agent-token", Viewer("warehouse", "demo")),
        ("demo-seller-token", Viewer("seller", "acme")),
        ("demo-seller-token ", None),
        ("", None),
        ("café", None),
        (API_TOKEN + "x", None),
    ],
)
def test_viewer_of(app: Flask, token: str, expected: Viewer | None) -> None:
    with app.test_request_context():
        assert viewer_of(token) == expected


def test_a_seller_without_a_token_is_nobodys() -> None:
    conf = load_settings(ROOT / "config.toml")
    assert seller_holding(conf, "demo-seller-token") == "acme"
    assert seller_holding(conf, "") is None
    assert [s.id for s in conf.sellers if s.token_sha256 is None] == ["bookworm", "greenleaf"]
