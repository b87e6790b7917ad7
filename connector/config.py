"""What the connector layer is configured with: where the user's config lives, and per-venue settings.

These are plain models; reading them from the config file and the environment is the console's job
(``console.settings``), which hands them down.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, Field


def config_dir() -> Path:
    """The user config directory (``~/.config/perpdesk`` on Linux; follows ``XDG_CONFIG_HOME``)."""
    return Path(user_config_dir("perpdesk"))


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
