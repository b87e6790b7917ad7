"""What the runtime is configured with: venues, symbols, journal, risk limits, tracking defaults.

Plain models, so a script can build them (or pass a plain table to ``Runtime``) without the console;
the console's ``Settings`` inherits from ``RuntimeSettings`` and adds where the values are read from.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.config import SimSettings, VenueSettings


class RiskSettings(BaseModel):
    """Pre-trade limits in human units (quote currency, base units, basis points); None = no limit."""

    model_config = ConfigDict(extra="forbid")

    max_order_notional: Decimal | None = None
    """Per-order notional ceiling; None = the account's available margin × the market's max leverage."""
    max_position: Decimal | None = None
    price_band_bps: Decimal | None = Decimal(500)
    """Refuse a limit order priced further than this from mid (fat-finger guard)."""
    confirm_notional: Decimal | None = None
    """Ask the trader to confirm orders above this notional."""
    fee_bps: Decimal | None = Decimal(10)
    """Fees the pre-trade initial-margin check adds (notional ÷ leverage + fees vs available margin); None = off."""


class TrackingSettings(BaseModel):
    """Defaults for every tracking limit (``execution.tracking.TrackingLimitManager``)."""

    model_config = ConfigDict(extra="forbid")

    on_restart: Literal["resume", "cancel"] = "resume"
    actions_per_s: int = Field(default=10, ge=1)
    burst: int | None = Field(default=None, ge=1)
    min_reprice_interval_ms: int = Field(default=200, ge=0)
    stale_after_ms: int = Field(default=2_000, ge=1)
    amend: Literal["fill_safe", "always", "never"] = "fill_safe"


class TriggerSettings(BaseModel):
    """Protective orders (``execution.triggers.TriggerManager``)."""

    model_config = ConfigDict(extra="forbid")

    force_emulation: bool = False
    """Hold every trigger in perpdesk even where the venue keeps them natively (tests cover both paths)."""


class RuntimeSettings(BaseModel):
    """Everything ``execution.runtime.Runtime`` reads; unknown keys are refused so a typo is caught."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    venues: list[str] = Field(default_factory=lambda: ["sim"])
    symbol_map: dict[str, dict[str, str]] = Field(default_factory=dict)
    """venue -> canonical symbol -> the venue's own symbol."""
    venue: dict[str, VenueSettings] = Field(default_factory=dict)
    journal_path: Path | None = None
    risk: RiskSettings = Field(default_factory=RiskSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    triggers: TriggerSettings = Field(default_factory=TriggerSettings)
    reconcile_interval_s: float = Field(default=15, gt=0)
    dead_man_switch: bool = True
    """Arm each venue's dead-man switch (cancel-all unless re-armed) while this runtime runs. A watch-only
    console turns it off: the timer is account-wide, so a viewer's stop would disarm the trader's."""
    """How often the reconciler compares our orders, positions and margin with the venue's."""
    journal_load_hours: float = Field(default=24, gt=0)
    """Finished orders younger than this are loaded from the journal at start (live ones always are)."""

    @field_validator("journal_path")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def venue_settings(self, venue: str) -> VenueSettings:
        """The ``[venue.<name>]`` table, or the defaults when there is none."""
        return self.venue.get(venue) or VenueSettings()
