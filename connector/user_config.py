"""Where the user's config lives, without the settings models (issue 18: importing pydantic and building
the models costs a start about 90 ms of CPU, and a start with no config file does not need them).
``connector.config`` re-exports ``config_dir``."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_dir


def config_dir() -> Path:
    """The user config directory (``~/.config/perpdesk`` on Linux; follows ``XDG_CONFIG_HOME``)."""
    return Path(user_config_dir("perpdesk"))
