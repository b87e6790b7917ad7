import pytest

from console.themes import DEFAULT_THEME, THEME_VARIABLE_DEFAULTS, ThemeFileError, load_themes, theme_from_toml


def test_packaged_themes_include_the_four_required_and_define_every_variable():
    themes = {t.name: t for t in load_themes()}
    assert {DEFAULT_THEME, "perpdesk-light", "perpdesk-high-contrast", "perpdesk-colorblind"} <= set(themes)
    for theme in themes.values():
        assert set(THEME_VARIABLE_DEFAULTS) <= set(theme.variables), theme.name
    assert themes["perpdesk-light"].dark is False


def test_colourblind_theme_avoids_red_green_for_up_down():
    theme = {t.name: t for t in load_themes()}["perpdesk-colorblind"]
    assert theme.variables["price-up"] not in ("#26a69a", "#00ff00")
    assert theme.variables["price-down"] not in ("#ef5350", "#ff3030")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "not valid TOML"),
        ('primary = "#fff"', 'needs a name'),
        ('name = "x"', "needs a primary colour"),
        ('name = "x"\nprimary = "#fff"\nsparkle = 1', "unknown field"),
        ('name = "x"\nprimary = "#fff"\nvariables = 3', r"\[variables\] must map"),
    ],
)
def test_bad_theme_file_is_refused_with_the_field_named(text, message):
    with pytest.raises(ThemeFileError, match=message):
        theme_from_toml(text, "mine.toml")


def test_a_folder_of_user_themes_loads(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\n[variables]\nprice-up = "#0000ff"\n')
    (theme,) = load_themes(tmp_path)
    assert theme.name == "mine" and theme.variables["price-up"] == "#0000ff"
