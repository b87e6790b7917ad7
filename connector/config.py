"""What the connector layer is configured with: where the user's config lives, and per-venue settings.

These are plain models; reading them from the config file and the environment is the console's job
(``console.settings``), which hands them down.  A start with no config file and no ``PERPDESK_*``
setting never imports them: it reads plain copies of their defaults (``console.settings_defaults``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connector.user_config import config_dir

__all__ = ["SimSettings", "VenueSettings", "config_dir"]


class VenueSettings(BaseModel):
    """One venue's endpoints and key file; venue-specific options ride along as extra keys."""

    model_config = ConfigDict(extra="allow")

    base_url: str | None = None
    ws_url: str | None = None
    testnet: bool = False
    key_file: Path | None = None
    paper: bool = False
    """Paper trading: the venue's public market data, a simulated account; no key file is read."""
    paper_collateral: int = Field(default=100_000, gt=0)
    """The paper account's starting collateral, in whole quote units."""

    def options(self) -> dict[str, object]:
        """The venue-specific extras (everything beyond the common fields)."""
        return dict(self.model_extra or {})


class SimSettings(BaseModel):
    """The simulated venue's seed and injected latency."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 7
    latency_ms: float = Field(default=0, ge=0)
