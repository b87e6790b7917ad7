"""Rebinding from the config file: ``[keymap]`` in the TOML reaches ``app.set_keymap`` through the CLI,
the new keys act, the old ones no longer do, and the help screen shows the keys as they are now."""

from __future__ import annotations

from console.cli import prepare
from console.screens.dialogs import KillSwitchScreen
from console.screens.help import HelpScreen, current_bindings
from tests.console.harness import make_desk, ready, settle


def keymap_from_config(tmp_path, monkeypatch, text: str) -> dict[str, str]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    config = tmp_path / "perpdesk.toml"
    config.write_text(text)
    _runtime, options = prepare(["--config", str(config)])
    return options["keymap"]


async def test_config_file_keymap_rebinds_buy_and_kill_switch(tmp_path, monkeypatch):
    keymap = keymap_from_config(
        tmp_path, monkeypatch, '[keymap]\n"order.buy" = "f10"\n"risk.kill_switch" = "ctrl+x"\n'
    )
    assert keymap == {"order.buy": "f10", "risk.kill_switch": "ctrl+x"}
    desk = make_desk(keymap=keymap)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("b", "ctrl+k")
        await pilot.pause()
        assert desk.app.focused.id == "markets"
        assert not isinstance(desk.app.screen, KillSwitchScreen)
        await pilot.press("f10")
        assert desk.app.focused.id == "price"
        await pilot.press("escape", "ctrl+x")
        await pilot.pause()
        assert isinstance(desk.app.screen, KillSwitchScreen)
        await pilot.press("escape")
        await settle(desk, pilot)
        rows = {bid: keys for keys, _, bid in current_bindings(desk.app)}
        assert rows["order.buy"] == "f10" and rows["risk.kill_switch"] == "^x"


async def test_help_screen_lists_rebound_keys_and_the_command_palette(tmp_path, monkeypatch):
    keymap = keymap_from_config(tmp_path, monkeypatch, '[keymap]\n"order.cancel_all" = "f7"\n')
    desk = make_desk(keymap=keymap)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(desk.app.screen, HelpScreen)
        lines = str(desk.app.screen.query_one("#help-keys").render()).splitlines()
        [cancel_all] = [line for line in lines if "order.cancel_all" in line]
        assert cancel_all.split()[0] == "f7" and "f8" not in cancel_all
        [palette] = [line for line in lines if "app.command_palette" in line]
        assert palette.split()[0] == "^p"
        [bar] = [line for line in lines if "app.command_bar" in line]
        assert bar.split()[0] == ":"


async def test_the_command_palette_key_is_rebindable_like_any_other(tmp_path, monkeypatch):
    from textual.command import CommandPalette

    keymap = keymap_from_config(tmp_path, monkeypatch, '[keymap]\n"app.command_palette" = "f12"\n')
    desk = make_desk(keymap=keymap)
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not CommandPalette.is_open(desk.app)
        await pilot.press("f12")
        await pilot.pause()
        assert CommandPalette.is_open(desk.app)


async def test_every_binding_id_the_help_shows_is_known_to_the_keymap_check():
    from console.keymap import binding_ids

    ids = binding_ids()
    assert {"command.complete", "kill.abort", "destructive.stay", "confirm.yes"} <= ids  # widgets and dialogs too
    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        shown = {bid for _, _, bid in current_bindings(desk.app)}
    assert shown and shown <= ids


def test_a_typo_in_a_keymap_id_is_one_clear_line_not_silence(tmp_path):
    from tests.console.test_cli import assert_one_clear_line, run_cli

    config = tmp_path / "perpdesk.toml"
    config.write_text('[keymap]\n"order.by" = "f10"\n')
    result = run_cli("--config", str(config), tmp_path=tmp_path)
    assert_one_clear_line(result, "order.by", "did you mean 'order.buy'", str(config))


def test_keys_that_do_not_reach_the_app_over_ssh_are_refused():
    from console.keymap import check_keymap

    known = {"order.buy", "order.sell"}
    assert check_keymap({"order.buy": "f10", "order.sell": "ctrl+s"}, known) == []
    [problem] = check_keymap({"order.buy": "f2,ctrl+enter"}, known)
    assert "ctrl+enter" in problem and "F-key" in problem
    [problem] = check_keymap({"order.buy": ""}, known)
    assert "give a key" in problem


async def test_help_names_the_command_bar_keys_where_they_work():
    from console.screens.help import current_bindings_where

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        rows = {bid: (keys, where) for keys, _, bid, where in current_bindings_where(desk.app)}
        assert rows["command.complete"] == ("tab", "command bar")
        assert rows["command.history_back"] == ("↑", "command bar")


async def test_help_lists_the_dialogs_keys_too():
    from console.screens.help import current_bindings_where

    desk = make_desk()
    async with desk.app.run_test(size=(120, 40)) as pilot:
        await ready(desk, pilot)
        rows = {bid: (keys, where) for keys, _, bid, where in current_bindings_where(desk.app)}
    assert rows["destructive.stay"][1] == "destructive dialog"
    assert rows["quit.stay"][1] == "quit dialog"
    assert rows["order.submit_enter"][1] == "order form"
    assert rows["command.run"][1] == "command bar"
