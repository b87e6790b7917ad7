"""Paper trading in the console: ``--paper`` and ``paper = true`` build paper venues with no key file
read and a journal apart from the live one; PAPER stands in the header and on every order and fill
line of a paper venue."""

from __future__ import annotations

import pytest

import connector.factory as factory
from connector.paper import PaperConnector
from console.cli import BadInput, prepare
from console.rehearse import PAPER_JOURNAL_NAME, default_paper_journal_path
from console.widgets.status import StatusBar
from execution.journal import default_journal_path
from tests.console.harness import make_desk, ready, settle
from tests.console.test_trading import capture_notices


@pytest.fixture(autouse=True)
def _no_key_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a key file was loaded in paper mode")

    monkeypatch.setattr(factory, "load_key_file", refuse)


def _keys_where_the_venue_looks(tmp_path, monkeypatch) -> None:
    key_file = tmp_path / "hl-keys.toml"
    key_file.write_text('private_key = "0x' + "11" * 32 + '"\n')
    monkeypatch.setenv(factory.key_file_env_var("hyperliquid"), str(key_file))


async def test_paper_flag_builds_paper_venues_on_the_paper_journal(tmp_path, monkeypatch):
    _keys_where_the_venue_looks(tmp_path, monkeypatch)
    runtime, _ = prepare(["--venue", "hyperliquid", "--paper"])
    try:
        conn = runtime.connectors["hyperliquid"]
        assert isinstance(conn, PaperConnector) and conn.paper
        assert runtime.journal.path == default_paper_journal_path()
        assert runtime.journal.path.name == PAPER_JOURNAL_NAME != default_journal_path().name
    finally:
        runtime.journal.close()


async def test_paper_true_per_venue_in_the_config_file(tmp_path, monkeypatch):
    _keys_where_the_venue_looks(tmp_path, monkeypatch)
    live = tmp_path / "live.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'venues = ["hyperliquid"]\njournal_path = "{live}"\n[venue.hyperliquid]\npaper = true\n')
    runtime, _ = prepare(["--config", str(config)])
    try:
        assert isinstance(runtime.connectors["hyperliquid"], PaperConnector)
        assert runtime.journal.path == default_paper_journal_path() != live  # the live journal is never touched
    finally:
        runtime.journal.close()


async def test_the_sim_sits_beside_a_paper_venue():
    runtime, _ = prepare(["--venue", "sim", "--venue", "hyperliquid", "--paper"])
    try:
        assert isinstance(runtime.connectors["hyperliquid"], PaperConnector)
        assert runtime.journal.path == default_paper_journal_path()
    finally:
        runtime.journal.close()


def test_paper_and_live_venues_are_not_mixed(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('venues = ["hyperliquid", "backpack"]\n[venue.hyperliquid]\npaper = true\n')
    with pytest.raises(BadInput, match=r"paper .* and live"):
        prepare(["--config", str(config)])


async def test_paper_is_unmistakable_in_the_header_and_on_order_lines():
    desk = make_desk()
    desk.venue.paper = True
    async with desk.app.run_test(size=(120, 40)) as pilot:
        seen = capture_notices(desk)
        await ready(desk, pilot)
        bar = desk.app.query_one(StatusBar)
        assert bar.view.paper == {"sim"}
        assert "sim  PAPER" in bar.render().plain
        desk.venue.reject_next = "insufficient margin"
        await pilot.press("b", "tab", *"0.01", "enter")
        await settle(desk, pilot)
        assert any(m.startswith("PAPER ") and "REJECTED" in m for m, _ in seen), seen
        await pilot.press("escape", "5")
        log = desk.app.query_one("#log-table")
        assert str(log.get_row_at(log.row_count - 1)[-1]).startswith("PAPER ")
        await pilot.press("b", "f3", *"0.01", "enter")
        await settle(desk, pilot)
        assert any(m.startswith("PAPER Filled BUY") for m, _ in seen), seen

async def test_a_live_venue_shows_no_paper_mark():
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        assert "PAPER" not in desk.app.query_one(StatusBar).render().plain
