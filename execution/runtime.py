"""The runtime: builds the services, wires every connector's events to them, starts and stops.

The console, scripts and tests all drive this one object.  Every service is built in
``__init__`` from typed settings (``execution.config.RuntimeSettings``), so none is ever
missing, and wired to a venue's events in its own ``_wire_*`` method, so a service can be
added or changed without touching the others.  Handlers are plain sync callables
registered on the connector (``add_handler``); they run on the event loop as events arrive.
Venues are reached only through ``connector.factory`` and the ``IConnector`` contract.
"""

from __future__ import annotations

import logging
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connector.clock import Clock, RealClock
from connector.factory import create_connector
from connector.interface import ConnectionEvent, ConnectionState, IConnector
from execution.algos import AlgoManager
from execution.journal import Journal
from execution.kill_switch import KillReport, kill_switch
from execution.leverage import LeverageService
from execution.listeners import Listeners
from execution.market import MarketDataService, UnknownVenue
from execution.orders import OrderService
from execution.position_service import PositionService
from execution.reconciler import Reconciler
from execution.risk import RiskLimits, RiskManager
from execution.tracking import TrackingLimitManager
from execution.triggers import TriggerManager

if TYPE_CHECKING:
    from execution.config import RuntimeSettings

log = logging.getLogger(__name__)

ConnectionListener = Callable[[ConnectionEvent], None]

_STATE_ORDER = (
    ConnectionState.DISCONNECTED,
    ConnectionState.CONNECTING,
    ConnectionState.CONNECTED,
    ConnectionState.STOPPED,
)
"""Worst first: a venue is as connected as its least connected stream."""


class Runtime:
    """Connectors plus the services built on them (market data, orders, positions, risk, tracking)."""

    def __init__(
        self,
        connectors: Iterable[IConnector] | Mapping[str, IConnector],
        *,
        clock: Clock | None = None,
        journal_path: str | Path | None = None,
        settings: RuntimeSettings | Mapping[str, object] | None = None,
    ) -> None:
        """``settings`` may be a plain table (a script's ``{"tracking": {...}}``); it is validated
        as ``RuntimeSettings`` (any other object is read as one, by its fields).  ``journal_path`` beats ``settings.journal_path``."""
        if isinstance(connectors, Mapping):
            self.connectors: dict[str, IConnector] = dict(connectors)
        else:
            self.connectors = {}
            for connector in connectors:
                if connector.venue in self.connectors:
                    raise ValueError(f"two connectors for venue {connector.venue!r}; pass a dict to name them apart")
                self.connectors[connector.venue] = connector
        self.clock: Clock = clock or RealClock()
        if settings is None or isinstance(settings, Mapping):
            from execution.config import RuntimeSettings

            settings = RuntimeSettings.model_validate(settings or {})
        self.settings: RuntimeSettings | Any = settings
        """Typed settings: a ``RuntimeSettings``, or an object with its fields (the console's plain
        defaults, ``console.settings_defaults``: a start with no config file never imports pydantic)."""
        self.started = False
        self.run_id: int | None = None

        self.connection: dict[str, dict[str, ConnectionState]] = {v: {} for v in self.connectors}
        """venue -> stream -> last reported state."""
        self.connection_events: deque[ConnectionEvent] = deque(maxlen=200)
        """Recent connection changes, newest last (for the console's status log)."""
        self._connection_listeners: Listeners[[ConnectionEvent]] = Listeners("connection")

        self.market_data = MarketDataService(self.clock, symbol_map=self.settings.symbol_map)
        self._ephemeral_journal: tempfile.TemporaryDirectory[str] | None = None
        self.journal: Journal = self._open_journal(journal_path)
        self.positions: PositionService = PositionService(self.market_data)
        self.leverage: LeverageService = LeverageService(self.market_data, self.connectors)
        """Leverage and margin mode per market, where the venue declares ``leverage``."""
        self.risk: RiskManager = RiskManager(
            self.market_data, self.positions, RiskLimits.from_mapping(self.settings.risk),
            leverage_of=self.leverage.leverage_of,
        )
        self.orders: OrderService = self._load_orders()
        self.tracking: TrackingLimitManager = self._build_tracking()
        self.triggers: TriggerManager = TriggerManager(
            self.orders, self.market_data, self.positions, clock=self.clock, connectors=self.connectors,
            journal=self.journal, force_emulation=self.settings.triggers.force_emulation,
        )  # fmt: skip
        self.algos: AlgoManager = AlgoManager(
            self.tracking, journal=self.journal, on_restart=self.settings.tracking.on_restart
        )
        """Scale and TWAP working orders (``execution.algos``), driving the tracking limits above."""
        self.reconciler: Reconciler = Reconciler(
            self.orders,
            positions=self.positions,
            market_data=self.market_data,
            journal=self.journal,
            clock=self.clock,
            interval_s=self.settings.reconcile_interval_s,
            dead_man_after_s=60.0 if self.settings.dead_man_switch else None,
        )

    @classmethod
    def from_settings(cls, settings: RuntimeSettings, *, clock: Clock | None = None) -> Runtime:
        """One connector per venue in ``settings.venues`` (none listed: the simulated venue), each
        built by ``connector.factory`` from its ``[venue.<name>]`` table."""
        connectors = {
            venue: create_connector(venue, venue_settings=settings.venue_settings(venue), sim=settings.sim, clock=clock)
            for venue in settings.venues or ["sim"]
        }
        return cls(connectors, clock=clock, settings=settings)

    # -- building the services ------------------------------------------------------------

    def _open_journal(self, journal_path: str | Path | None) -> Journal:
        """The journal at ``journal_path``, the settings' path, or the default one.

        A journal that cannot be opened raises ``JournalError`` here: nothing starts on a lost history.
        """
        path = Path(journal_path) if journal_path is not None else self.settings.journal_path
        if path is None and self.connectors and set(self.connectors) == {"sim"}:
            # The sim venue forgets everything when the process ends: a journal that outlived it
            # would only hold orders no venue knows.  Give it one that lives as long as the run.
            self._ephemeral_journal = tempfile.TemporaryDirectory(prefix="perpdesk-sim-")
            path = Path(self._ephemeral_journal.name) / "journal.sqlite3"
            return Journal(path, durable=False)  # gone with the process: no fsync (issue 18, cold start)
        return Journal(path)

    def _load_orders(self) -> OrderService:
        """The order service, loaded from the journal before any stream runs."""
        orders = OrderService(self.connectors, self.market_data, journal=self.journal, clock=self.clock, risk=self.risk)
        keep_ms = int(self.settings.journal_load_hours * 3_600_000)
        orders.load(self.journal.load_orders(since_ms=self.clock.now_ms() - keep_ms))
        return orders

    def _build_tracking(self) -> TrackingLimitManager:
        """The tracking limits, with the ``[tracking]`` defaults from settings."""
        tracking = self.settings.tracking
        return TrackingLimitManager(
            self.orders,
            self.market_data,
            clock=self.clock,
            connectors=self.connectors,
            journal=self.journal,
            actions_per_s=tracking.actions_per_s,
            burst=tracking.burst,
            on_restart=tracking.on_restart,
            min_reprice_interval_ms=tracking.min_reprice_interval_ms,
            stale_after_ms=tracking.stale_after_ms,
            amend=tracking.amend,
        )

    # -- wiring one venue's events --------------------------------------------------------

    def _wire_venue(self, venue: str, connector: IConnector) -> None:
        self._wire_connection(venue, connector)
        self._wire_market_data(venue, connector)
        self._wire_orders(venue, connector)
        self._wire_positions(venue, connector)
        self._wire_reconciler(venue, connector)

    def _wire_connection(self, venue: str, connector: IConnector) -> None:
        known = getattr(connector, "connection_state", None)
        if isinstance(known, Mapping):
            self.connection.setdefault(venue, {}).update(known)
        connector.add_handler("connection", partial(self._on_connection, venue))

    def _wire_market_data(self, venue: str, connector: IConnector) -> None:
        connector.add_handler("book", partial(self.market_data.on_book, venue))
        connector.add_handler("trade", partial(self.market_data.on_trade, venue))

    def _wire_orders(self, venue: str, connector: IConnector) -> None:
        connector.add_handler("order", partial(self.orders.ingest_update, venue))
        connector.add_handler("fill", partial(self.orders.ingest_update, venue))

    def _wire_reconciler(self, venue: str, connector: IConnector) -> None:
        connector.add_handler("connection", partial(self.reconciler.on_connection, venue))

    def _wire_positions(self, venue: str, connector: IConnector) -> None:
        for kind in ("fill", "position", "margin"):
            connector.add_handler(kind, partial(self.positions.ingest, venue))
        if "funding" in connector.capabilities:
            connector.add_handler("funding", partial(self.positions.ingest, venue))
        if "leverage_pushed" in connector.capabilities:
            connector.add_handler("leverage", partial(self.leverage.on_venue, venue))

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every connector, load its markets, subscribe its books, then the services."""
        if self.started:
            return
        self.started = True
        try:
            for venue, connector in self.connectors.items():
                self._wire_venue(venue, connector)
                await connector.start()
                await self.market_data.add_venue(venue, connector)
                symbols = [self.market_data.venue_symbol(venue, s) for s in self.market_data.symbols(venue)]
                await connector.subscribe_market_data(symbols)
            await self._start_services()
        except BaseException:
            # one venue failing to start must not leave the others' streams running
            await self.stop()
            raise

    async def _start_services(self) -> None:
        """Services that run on their own (reconciler, journal flush, tracking) start here."""
        await self._start_reconciler()
        await self.leverage.load()
        await self._start_tracking()
        await self.triggers.restore()

    async def _start_tracking(self) -> None:
        """After the reconciler has the venue's truth: resume (or cancel) chases journaled live."""
        await self.tracking.restore()
        await self.algos.restore()  # after the chases: a TWAP adopts its live slice

    async def _start_reconciler(self) -> None:
        """Record the run, then reconcile the journal's picture with every venue and start the heartbeat."""
        previous = self.journal.runs()[-1:]
        if previous and previous[0]["stopped_ms"] is None:
            self.reconciler.note(
                "*", "run", "previous run did not stop cleanly", "checking every venue for what changed meanwhile"
            )
        self.run_id = self.journal.start_run(self.clock.now_ms())
        await self.reconciler.start()

    async def stop(self, *, disarm_dead_man: bool = True) -> None:
        """Stop the services, then every connector; a failing stop is logged and the rest still stop.

        ``disarm_dead_man=False`` leaves the venues' dead-man switches armed (see ``Reconciler.stop``)."""
        if not self.started:
            return
        self.started = False
        await self._stop_services(disarm_dead_man)
        for venue, connector in self.connectors.items():
            try:
                await connector.stop()
            except Exception:
                log.exception("%s: stopping the connector failed", venue)
        self._close_journal()

    def _close_journal(self) -> None:
        """Last: connectors may still deliver events while they stop."""
        self.journal.close()
        if self._ephemeral_journal is not None:
            self._ephemeral_journal.cleanup()
            self._ephemeral_journal = None

    async def _stop_services(self, disarm_dead_man: bool = True) -> None:
        """Reverse of ``_start_services``."""
        await self._stop_tracking()
        try:
            await self.triggers.stop()
        except Exception:
            log.exception("stopping the triggers failed")
        await self._stop_reconciler(disarm_dead_man)
        await self.leverage.stop()

    async def _stop_tracking(self) -> None:
        """Stop driving chases; their orders and journal rows stay, so a restart resumes them."""
        try:
            await self.algos.stop()
            await self.tracking.stop()
        except Exception:
            log.exception("stopping the tracking limits failed")

    async def _stop_reconciler(self, disarm_dead_man: bool = True) -> None:
        """Disarm dead-man switches and mark the run as cleanly stopped; a failure here must not keep connectors up."""
        try:
            await self.reconciler.stop(disarm_dead_man=disarm_dead_man)
            if self.run_id is not None:
                self.journal.end_run(self.run_id, self.clock.now_ms())
        except Exception:
            log.exception("stopping the reconciler failed")

    async def kill_switch(self, flatten: bool = False) -> KillReport:
        """Halt working orders, disarm triggers, stop chases, cancel every open order on every venue,
        optionally flatten; then HALTED until rearmed."""
        halted = await self.algos.halt()  # first: a TWAP would otherwise start its next slice into the kill
        disarmed = 0
        try:
            disarmed = await self.triggers.cancel_all(reason="kill switch")
        except Exception:
            log.exception("kill switch: disarming the triggers failed; going on with the kill")
        report = await kill_switch(self, flatten=flatten)
        report.algos_halted, report.triggers_disarmed = halted, disarmed
        return report

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- connection state -----------------------------------------------------------------

    def _on_connection(self, venue: str, event: ConnectionEvent) -> None:
        self.connection.setdefault(venue, {})[event.stream] = event.state
        self.connection_events.append(event)
        self._connection_listeners.emit(event)

    def connection_state(self, venue: str) -> ConnectionState:
        """The venue's least connected stream; STOPPED before start, CONNECTING until a stream reports."""
        if venue not in self.connectors:
            raise UnknownVenue(f"unknown venue {venue!r}; venues: {', '.join(self.connectors) or 'none'}")
        streams = self.connection.get(venue) or {}
        if not streams:
            return ConnectionState.CONNECTING if self.started else ConnectionState.STOPPED
        return min(streams.values(), key=_STATE_ORDER.index)

    def add_connection_listener(self, listener: ConnectionListener) -> None:
        """``listener(ConnectionEvent)`` for every stream's state change on every venue."""
        self._connection_listeners.add(listener)

    def remove_connection_listener(self, listener: ConnectionListener) -> None:
        self._connection_listeners.remove(listener)

    def __repr__(self) -> str:
        return f"<Runtime venues={list(self.connectors)} started={self.started}>"
