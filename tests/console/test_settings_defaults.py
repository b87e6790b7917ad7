"""``console.settings_defaults``: a start with nothing to read takes the models' defaults as plain objects
(issue 18), and they cannot drift from the models: compared field by field, values and types."""

from __future__ import annotations

import os

import pytest
from pydantic import BaseModel

from console import cli
from console.settings import Settings, env_values
from console.settings_defaults import PlainSettings, names_a_setting, plain_defaults


def _same(model: BaseModel, plain: object, where: str = "settings") -> None:
    """Every field of ``model`` equals ``plain``'s (nested models compared the same way), of the same
    type, and ``plain`` has no field the model lacks."""
    names = set(type(model).model_fields)
    plain_names = set(vars(plain)) - {"config_path"}
    assert plain_names == names, where
    for name in names:
        want, got = getattr(model, name), getattr(plain, name)
        if isinstance(want, BaseModel):
            _same(want, got, f"{where}.{name}")
            continue
        if isinstance(want, dict) and any(isinstance(v, BaseModel) for v in want.values()):
            assert set(got) == set(want), f"{where}.{name}"
            for key in want:
                _same(want[key], got[key], f"{where}.{name}[{key!r}]")
            continue
        assert type(got) is type(want), f"{where}.{name}: {type(got).__name__} vs {type(want).__name__}"
        assert got == want, f"{where}.{name}"


def test_the_plain_defaults_equal_the_models_defaults_field_by_field():
    settings = Settings.load()
    plain = plain_defaults(os.environ)
    assert isinstance(plain, PlainSettings)
    _same(settings, plain)
    assert plain.config_path == settings.config_path
    # what the start calls on them, besides the fields
    _same(settings.venue_settings("sim"), plain.venue_settings("sim"), "venue_settings('sim')")
    assert plain.venue_settings("sim").options() == settings.venue_settings("sim").options()
    _same(settings.venue_settings("sim").model_copy(update={"paper": True}),
          plain.venue_settings("sim").model_copy(update={"paper": True}), "model_copy")  # fmt: skip
    assert plain.risk.model_dump() == settings.risk.model_dump()


def test_the_runtime_reads_the_plain_defaults_as_it_reads_the_models():
    from execution.risk import RiskLimits

    plain = plain_defaults(os.environ)
    assert RiskLimits.from_mapping(plain.risk) == RiskLimits.from_mapping(Settings.load().risk)


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("PERPDESK_THEME", True),
        ("perpdesk_venues", True),
        ("PERPDESK_SIM__SEED", True),
        ("PERPDESK_VENUE__LIGHTER__TESTNET", True),
        ("PERPDESK_SIM__", False),
        ("PERPDESK_HYPERLIQUID_KEY_FILE", False),
        ("PERPDESK_NOTHING", False),
        ("HOME", False),
    ],
)
def test_a_variable_names_a_setting_exactly_when_the_settings_read_it(name, names):
    assert names_a_setting(name) is names
    assert bool(env_values({name: "1"})) is names


def test_a_config_file_or_a_setting_in_the_environment_goes_through_the_models(monkeypatch):
    assert plain_defaults({"PERPDESK_LIGHTER_KEY_FILE": "k.toml"}) is not None
    assert plain_defaults({"PERPDESK_SIM__SEED": "3"}) is None
    path = plain_defaults(os.environ).config_path
    path.parent.mkdir(parents=True)
    path.write_text("theme = \n")  # broken: Settings.load reports it, as before
    assert plain_defaults(os.environ) is None
    with pytest.raises(cli.BadInput, match="not valid TOML"):
        cli.prepare([])


def test_perpdesk_starts_on_the_plain_defaults_only_when_there_is_nothing_to_read(monkeypatch, tmp_path):
    runtime, options = cli.prepare([])
    assert isinstance(runtime.settings, PlainSettings)
    assert options["theme"] == "perpdesk-dark" and options["alerts"] == plain_defaults(os.environ).alerts
    for argv in (["--theme", "perpdesk-light"], ["--venue", "sim"], ["--read-only"], ["--journal", str(tmp_path / "j")]):
        runtime, _ = cli.prepare(argv)
        assert isinstance(runtime.settings, Settings), argv
    monkeypatch.setenv("PERPDESK_SIM__SEED", "3")
    runtime, _ = cli.prepare([])
    assert isinstance(runtime.settings, Settings) and runtime.settings.sim.seed == 3
    monkeypatch.setenv("PERPDESK_SIM__SEED", "minus one")
    with pytest.raises(cli.BadInput, match="PERPDESK_SIM__SEED"):
        cli.prepare([])


def test_paper_on_the_plain_defaults_is_what_it_is_on_the_models():
    from console.rehearse import apply_paper

    plain, model = plain_defaults(os.environ), Settings.load()
    assert apply_paper(plain, paper=True, read_only=False) == apply_paper(model, paper=True, read_only=False) == []
    _same(model, plain)
