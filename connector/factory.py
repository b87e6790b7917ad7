"""Build a connector for a venue slug from its venue settings, overrides and the venue's key file.

Venue classes are named by import path and imported only when asked for, so a missing
optional SDK breaks only its own venue, with the ``pip install`` that fixes it.

Constructor convention for a real venue (what ``create_connector`` passes)::

    VenueConnector(*, base_url: str | None, ws_url: str | None, testnet: bool,
                   keys: dict[str, Any] | None, clock: Clock | None, **venue_options)

``base_url``/``ws_url`` None means the venue's own default for ``testnet``; ``keys`` is the
loaded key file (secrets as ``connector.keys.Secret``) or None when there is none (market data
only: the connector raises ``AuthError`` when asked to trade).  ``venue_options`` are the extra
keys of ``[venue.<slug>]`` in the config file plus any extra keyword given to
``create_connector``.  The simulated venue takes ``engine=None, clock=None, seed=7, latency_ms=0``.

Paper trading (``paper=True``, or ``paper = true`` in ``[venue.<slug>]``) builds the venue's connector
with ``keys=None`` (no key file is looked for or read) and wraps it in
``connector.paper.PaperConnector``, which uses it for public market data only.  The sim is paper already.

The factory is handed the connector layer's own settings (``connector.config``), never the app's; it
reads their fields only, so plain objects with the same fields do (``console.settings_defaults``, a start
with no config file), and it imports the models only to build the defaults when none are given.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.clock import Clock
from connector.errors import ConfigError
from connector.interface import QUOTE_DECIMALS, IConnector
from connector.keys import describe_keys, load_key_file
from connector.user_config import config_dir

if TYPE_CHECKING:
    from connector.config import SimSettings, VenueSettings


@dataclass(frozen=True, slots=True)
class VenueEntry:
    target: str
    """``module:Class``."""
    extra: str | None = None
    """The pip extra that installs the venue's SDK, if it has one."""
    needs_keys: bool = True


class VenueRegistry(Mapping[str, type[IConnector]]):
    """slug -> connector class, imported on first lookup; iterating never imports anything."""

    def __init__(self) -> None:
        self._entries: dict[str, VenueEntry] = {}
        self._classes: dict[str, type[IConnector]] = {}

    def register(
        self, slug: str, target: str | type[IConnector], *, extra: str | None = None, needs_keys: bool = True
    ) -> None:
        if isinstance(target, type):
            self._classes[slug] = target
            target = f"{target.__module__}:{target.__qualname__}"
        else:
            self._classes.pop(slug, None)
        self._entries[slug] = VenueEntry(target, extra, needs_keys)

    def unregister(self, slug: str) -> None:
        self._entries.pop(slug, None)
        self._classes.pop(slug, None)

    def entry(self, slug: str) -> VenueEntry:
        try:
            return self._entries[slug]
        except KeyError:
            raise ConfigError(f"unknown venue {slug!r}: use one of {', '.join(sorted(self._entries))}") from None

    def __getitem__(self, slug: str) -> type[IConnector]:
        if slug in self._classes:
            return self._classes[slug]
        entry = self.entry(slug)
        module_name, _, class_name = entry.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                raise ConfigError(f"the {slug} venue is not part of this build ({module_name} is missing)") from None
            hint = f": pip install -e '.[{entry.extra}]'" if entry.extra else ""
            raise ConfigError(f"the {slug} venue needs its extra{hint} (missing module {exc.name})") from None
        try:
            cls = getattr(module, class_name)
        except AttributeError:
            raise ConfigError(f"the {slug} venue is not part of this build ({entry.target} is missing)") from None
        self._classes[slug] = cls
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, slug: object) -> bool:
        return slug in self._entries


VENUES = VenueRegistry()
VENUES.register("sim", "connector.sim.connector:SimConnector", needs_keys=False)
VENUES.register("hyperliquid", "connector.hyperliquid.connector:HyperliquidConnector", extra="hyperliquid")
VENUES.register("lighter", "connector.lighter.connector:LighterConnector", extra="lighter")
VENUES.register("backpack", "connector.backpack.connector:BackpackConnector", extra="backpack")
VENUES.register("binance-usdm", "connector.binance_usdm.connector:BinanceUsdmConnector")  # stdlib HMAC: no extra


def key_file_env_var(venue: str) -> str:
    return f"PERPDESK_{venue.upper().replace('-', '_')}_KEY_FILE"


def default_key_file(venue: str) -> Path:
    return config_dir() / "keys" / f"{venue}.toml"


@dataclass(frozen=True, slots=True)
class KeyFileLocation:
    path: Path
    source: str
    """Where the path came from: ``argument``, ``env PERPDESK_X_KEY_FILE``, ``config file``, ``default``."""


def discover_key_file(
    venue: str, *, configured: str | Path | None = None, override: str | Path | None = None
) -> KeyFileLocation | None:
    """The key file to use: the argument, then ``PERPDESK_<VENUE>_KEY_FILE``, then ``configured`` (the
    config file's ``venue.<name>.key_file``), then ``<config dir>/keys/<venue>.toml`` if it exists;
    None when there is none."""
    if override is not None:
        return KeyFileLocation(Path(override).expanduser(), "argument")
    env_name = key_file_env_var(venue)
    if os.environ.get(env_name):
        return KeyFileLocation(Path(os.environ[env_name]).expanduser(), f"env {env_name}")
    if configured is not None:
        return KeyFileLocation(Path(configured).expanduser(), "config file")
    default = default_key_file(venue)
    if default.exists():
        return KeyFileLocation(default, "default")
    return None


def create_connector(
    venue: str,
    *,
    venue_settings: VenueSettings | None = None,
    sim: SimSettings | None = None,
    base_url: str | None = None,
    ws_url: str | None = None,
    key_file: str | Path | None = None,
    testnet: bool | None = None,
    clock: Clock | None = None,
    paper: bool | None = None,
    **extra: Any,
) -> IConnector:
    """A ready-to-start connector for ``venue``; explicit arguments beat ``venue_settings``.

    ``sim`` (seed, latency) is read by the simulated venue only; ``extra`` goes to the constructor.
    ``paper`` wraps the venue's public side in a paper account (see the module docstring).
    Raises ``ConfigError`` for an unknown venue, a missing extra, a bad key file or an option the
    venue does not take.
    """
    entry = VENUES.entry(venue)
    cls = VENUES[venue]
    venue_settings = venue_settings or _default_venue_settings()
    if paper is None:
        paper = venue_settings.paper
    if paper and entry.needs_keys:
        return _paper(venue, venue_settings, base_url=base_url, ws_url=ws_url, testnet=testnet, clock=clock,
                      extra=extra)  # fmt: skip
    if not entry.needs_keys:
        kwargs: dict[str, Any] = {"clock": clock}
        if sim is not None and venue == "sim":
            kwargs.update(seed=sim.seed, latency_ms=sim.latency_ms)
        kwargs.update(extra)
        return _construct(cls, venue, kwargs)
    location = discover_key_file(venue, configured=venue_settings.key_file, override=key_file)
    keys = load_key_file(location.path, venue=venue) if location is not None else None
    kwargs = {
        "base_url": base_url if base_url is not None else venue_settings.base_url,
        "ws_url": ws_url if ws_url is not None else venue_settings.ws_url,
        "testnet": testnet if testnet is not None else venue_settings.testnet,
        "keys": keys,
        "clock": clock,
        **venue_settings.options(),
        **extra,
    }
    return _construct(cls, venue, kwargs)


def public_connector(
    venue: str,
    *,
    venue_settings: VenueSettings | None = None,
    base_url: str | None = None,
    ws_url: str | None = None,
    testnet: bool | None = None,
    clock: Clock | None = None,
    **extra: Any,
) -> IConnector:
    """The venue's connector built with ``keys=None`` (no key file is looked for): market data only."""
    venue_settings = venue_settings or _default_venue_settings()
    kwargs: dict[str, Any] = {
        "base_url": base_url if base_url is not None else venue_settings.base_url,
        "ws_url": ws_url if ws_url is not None else venue_settings.ws_url,
        "testnet": testnet if testnet is not None else venue_settings.testnet,
        "keys": None,
        "clock": clock,
        **venue_settings.options(),
        **extra,
    }
    return _construct(VENUES[venue], venue, kwargs)


def _default_venue_settings() -> VenueSettings:
    from connector.config import VenueSettings

    return VenueSettings()


def _paper(
    venue: str,
    venue_settings: VenueSettings,
    *,
    base_url: str | None,
    ws_url: str | None,
    testnet: bool | None,
    clock: Clock | None,
    extra: dict[str, Any],
) -> IConnector:
    """The venue's public side inside a paper account."""
    public = public_connector(
        venue, venue_settings=venue_settings, base_url=base_url, ws_url=ws_url, testnet=testnet, clock=clock, **extra
    )
    paper_cls = importlib.import_module("connector.paper.connector").PaperConnector
    return paper_cls(public, clock=clock, collateral_q=venue_settings.paper_collateral * 10**QUOTE_DECIMALS)


def _construct(cls: type[IConnector], venue: str, kwargs: dict[str, Any]) -> IConnector:
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return cls(**kwargs)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        unknown = sorted(set(kwargs) - set(parameters))
        if unknown:
            accepted = sorted(n for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY)
            raise ConfigError(
                f"the {venue} venue does not take option {unknown[0]!r} (check [venue.{venue}] in the config file); "
                f"it takes: {', '.join(accepted)}"
            )
    return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """What ``perpdesk venues`` shows for one venue; never a secret value."""

    venue: str
    needs_keys: bool
    path: Path | None = None
    source: str = ""
    ok: bool = False
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    """Key-file fields with secrets masked as ``***``."""


def key_status(venue: str, *, venue_settings: VenueSettings | None = None) -> KeyStatus:
    entry = VENUES.entry(venue)
    if not entry.needs_keys:
        return KeyStatus(venue, False, ok=True, message="no key needed")
    try:
        location = discover_key_file(venue, configured=venue_settings.key_file if venue_settings else None)
    except ConfigError as exc:
        return KeyStatus(venue, True, message=str(exc))
    if location is None:
        return KeyStatus(
            venue,
            True,
            message=f"no key file: put one at {default_key_file(venue)} or set {key_file_env_var(venue)}",
        )
    try:
        keys = load_key_file(location.path, venue=venue)
    except ConfigError as exc:
        return KeyStatus(venue, True, location.path, location.source, message=str(exc))
    return KeyStatus(venue, True, location.path, location.source, True, "key file found", describe_keys(keys))


def describe_venues(venue_settings: Mapping[str, VenueSettings] | None = None) -> list[KeyStatus]:
    """One ``KeyStatus`` per registered venue, in name order (nothing is imported); ``venue_settings``
    is the config file's ``[venue.<name>]`` tables."""
    tables = venue_settings or {}
    return [key_status(venue, venue_settings=tables.get(venue)) for venue in sorted(VENUES)]
