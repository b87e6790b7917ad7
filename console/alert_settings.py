"""``[alerts]`` in the config file (``AlertSettings``), apart from ``console.alerts`` so the console imports
pydantic only when it reads a config file (issue 18); a start without one gets
``console.settings_defaults.PlainAlertSettings``, the same defaults as plain fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AlertSettings(BaseModel):
    """``[alerts]`` in the config file: how an alert reaches the trader, and which events alert."""

    model_config = ConfigDict(extra="forbid")

    bell: bool = True
    """The terminal bell (BEL)."""
    osc9: bool = True
    """OSC 9 desktop notification (iTerm2, WezTerm, Windows Terminal, kitty …)."""
    osc777: bool = True
    """OSC 777 desktop notification (urxvt, foot, VTE terminals such as GNOME Terminal)."""
    fills: bool = True
    """Every fill of ours alerts."""
    chase_end: bool = True
    """A chase that ends (filled, timed out, cancelled, failed) alerts."""
