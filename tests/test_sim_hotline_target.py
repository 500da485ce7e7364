"""hotline as the replay's target: apps of one config start from a copy of its directory."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from hotline.sim.hotline_aware.target import build_hotline_app
from hotline.store.database import get_store
from hotline.store.models import OrderRow, SellerRow

ROOT = Path(__file__).resolve().parent.parent


def _config(folder: Path, name: str, drop_order: str | None = None) -> Path:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('flows_dir = "flows"', f'flows_dir = "{ROOT / "flows"}"')
    if drop_order is not None:
        start = text.index(f'[[orders]]\nid = "{drop_order}"')
        text = text[:start] + text[text.index("\n[", start + 1) :]
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _directory(app: object) -> tuple[list[str], list[str]]:
    engine = get_store(app.app).engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        sellers = sorted(conn.execute(select(SellerRow.id)).scalars())
        orders = sorted(conn.execute(select(OrderRow.id)).scalars())
    return sellers, orders


def test_apps_of_a_config_get_its_directory_and_never_another_configs(tmp_path: Path) -> None:
    whole = _config(tmp_path, "whole.toml")
    fewer = _config(tmp_path, "fewer.toml", drop_order="2345678")

    apps = [build_hotline_app(whole), build_hotline_app(whole), build_hotline_app(fewer)]
    try:
        first, second, other = (_directory(app) for app in apps)
        # The second app copied the first's directory: the same rows, as if it had loaded them.
        assert first == second
        assert first[0] == ["acme", "bookworm", "greenleaf"] and "2345678" in first[1]
        # Another config (here one order fewer) never starts from the first's directory.
        assert other == (first[0], [order for order in first[1] if order != "2345678"])
    finally:
        for app in apps:
            app.close()
