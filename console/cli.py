"""``perpdesk``: parse the command line, load settings, build the runtime, run the console.

Bad input never produces a traceback: one line on stderr saying what is wrong and how to
fix it, and exit code 2.  Heavy imports (Textual, the venues) happen after the arguments
are checked, so a typo is reported instantly.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from connector.interface import QUOTE_DECIMALS
from connector.scaling import decimal_to_scaled

if TYPE_CHECKING:
    from connector.interface import IConnector, Position
    from console.settings import Settings
    from console.settings_defaults import PlainSettings
    from execution.market import MarketDataService
    from execution.runtime import Runtime

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """A problem the user can fix; the message says how."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"perpdesk: {message} (see perpdesk --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


SUBCOMMANDS = """commands:
  perpdesk venues     list venues and the key files perpdesk finds
  perpdesk check      connect to the configured venues, report, and exit
  perpdesk serve      serve the console to a browser (perpdesk serve --help)
  perpdesk export     write fills or orders from the journal as CSV or JSON (perpdesk export --help)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perpdesk", description="A keyboard-driven terminal trading console for perpetual futures.",
                     epilog=SUBCOMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venue", action="append", metavar="NAME", help="venue to trade (repeatable); default: sim")
    parser.add_argument("--symbol", metavar="SYM", help="market to open first, e.g. BTC")
    parser.add_argument("--theme", metavar="NAME", help="colour theme, e.g. perpdesk-light")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file (TOML) instead of the default")
    parser.add_argument("--read-only", action="store_true",
                        help="watch only: every trading action is refused (what perpdesk serve --read-only runs)")
    parser.add_argument("--paper", action="store_true",
                        help="paper trading: the venues' live public market, a simulated account; no key file is read")
    parser.add_argument("--record", metavar="FILE", type=Path,
                        help="record every frame and REST answer received (and our requests, secrets redacted)")
    parser.add_argument("--record-max-mb", metavar="MB", type=float, default=512.0,
                        help="start the next recording file after this many MB (uncompressed; default 512)")
    parser.add_argument("--record-max-minutes", metavar="MIN", type=float, default=60.0,
                        help="start the next recording file after this many minutes (default 60)")
    parser.add_argument("--journal", metavar="PATH", type=Path,
                        help="the journal (SQLite) to use instead of the configured or default one")
    return parser


def load_settings(config: Path | None, **values: Any) -> Settings:
    """The settings (file, then env, then ``values`` from the command line); BadInput on any problem."""
    from console.settings import load_settings as load

    try:
        return load(config, **values)
    except ValueError as exc:  # ConfigError: already one line that says what to fix
        raise BadInput(_one_line(str(exc))) from None


PLAIN_DEFAULTS = True
"""A start with nothing to read (no config file, no ``PERPDESK_*`` setting, no setting on the command
line) takes the settings' defaults as plain objects (``console.settings_defaults``) instead of importing
pydantic and the models to validate nothing: about 90 ms of CPU off the start (issue 18)."""


def _plain_defaults(config: Path | None, values: dict[str, Any]) -> PlainSettings | None:
    if not PLAIN_DEFAULTS or config is not None or values:
        return None
    import os

    from console.settings_defaults import plain_defaults

    return plain_defaults(os.environ)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _available_venues() -> list[str]:
    try:
        from connector.factory import VENUES
    except ImportError:
        return ["sim"]
    return sorted(VENUES)


def _theme_names() -> list[str]:
    from console.themes import load_themes

    return [t.name for t in load_themes()] + ["textual-dark", "textual-light"]


def build_runtime(settings: Settings | PlainSettings) -> Runtime:
    from execution.journal import JournalError
    from execution.runtime import Runtime

    try:
        return Runtime.from_settings(settings)
    except (ValueError, OSError, ImportError, JournalError) as exc:  # key files, journal, a missing extra
        raise BadInput(_one_line(str(exc))) from None


def prepare(argv: list[str]) -> tuple[Runtime, dict[str, Any]]:
    """Check everything that can be checked before the screen opens; returns (runtime, app options)."""
    args = build_parser().parse_args(argv)
    known = _available_venues()
    for venue in args.venue or []:
        if venue not in known:
            raise BadInput(f"unknown venue {venue!r}: use one of {', '.join(known)}")
    if args.venue and len(set(args.venue)) != len(args.venue):
        raise BadInput("a venue is given twice: give each --venue once")
    if args.theme is not None and args.theme not in _theme_names():
        raise BadInput(f"unknown theme {args.theme!r}: use one of {', '.join(_theme_names())}")
    symbol = args.symbol
    if symbol is not None and not symbol.replace("-", "").replace("_", "").isalnum():
        raise BadInput(f"{symbol!r} is not a symbol: use a name like BTC")
    values: dict[str, Any] = {k: v for k, v in (("venues", args.venue), ("theme", args.theme),
                                                 ("journal_path", args.journal)) if v}
    if args.read_only:
        # a journal of its own, in memory: a viewer never opens (or locks) the trader's journal and
        # so never resumes the trader's journaled chases
        values["journal_path"] = ":memory:"
        # and it never arms or disarms the venue's dead-man timer: it is account-wide, the trader's to keep
        values["dead_man_switch"] = False
    settings = _plain_defaults(args.config, values) or load_settings(args.config, **values)
    for venue in settings.venues:
        if venue not in known:
            raise BadInput(f"unknown venue {venue!r} in {settings.config_path}: use one of {', '.join(known)}")
    from console.rehearse import apply_paper

    try:
        apply_paper(settings, paper=args.paper, read_only=args.read_only)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if args.record is not None:
        from console.rehearse import start_recording

        try:
            start_recording(args.record, settings, max_mb=args.record_max_mb, max_minutes=args.record_max_minutes)
        except OSError as exc:
            raise BadInput(f"cannot record to {args.record}: {exc}") from None
    if settings.theme not in _theme_names():
        raise BadInput(f"unknown theme {settings.theme!r} in {settings.config_path}: use one of "
                       f"{', '.join(_theme_names())}")
    if settings.keymap:
        from console.keymap import check_keymap

        problems = check_keymap(settings.keymap)
        if problems:
            raise BadInput(f"{problems[0]} (in {settings.config_path})")
    runtime = build_runtime(settings)
    if args.record is not None:
        from console.rehearse import record_story

        record_story(runtime)
    options: dict[str, Any] = {
        "venue": args.venue[0] if args.venue else None,
        "symbol": symbol or settings.symbol,
        "theme": settings.theme,
        "keymap": dict(settings.keymap),
        "on_hangup": settings.on_hangup,
        "sizes": {k.upper(): v for k, v in settings.sizes.items()},
        "persist_theme": None if args.read_only else lambda name: _save_theme(name, settings.config_path),
        "read_only": args.read_only,
        "alerts": settings.alerts,
    }
    confirm = settings.risk.confirm_notional
    if confirm is not None:
        options["confirm_above_q"] = decimal_to_scaled(confirm, QUOTE_DECIMALS)
    return runtime, options


def _save_theme(name: str, config_path: Path) -> None:
    from console.settings import save_setting

    save_setting("theme", name, config_path)


QUIET_COLLECTOR_AT_START = True
"""The console's start runs with the cyclic garbage collector off: its ~100k new objects, nearly all
long-lived, cost ~200 young and ~20 middle collections and a full one before the first book (about a
tenth of a start, issue 18); a second after the first market opens the app collects once, freezes
what the start built and turns the collector back on, tuned for a long-lived heap (``console.heap``)."""


def _collect_again(collecting: bool) -> None:
    if collecting:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    if argv[:1] == ["replay"]:
        return _replay(argv[1:])
    if argv[:1] in (["venues"], ["check"], ["export"]):
        try:
            if argv[0] == "export":
                return _export(argv[1:])
            return _venues(argv[1:]) if argv[0] == "venues" else _check(argv[1:])
        except BadInput as exc:
            print(f"perpdesk: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    collecting = gc.isenabled()
    if QUIET_COLLECTOR_AT_START:
        gc.disable()  # until the heap settles after the first paint (PerpdeskApp._settle_heap)
    try:
        runtime, options = prepare(argv)
    except BadInput as exc:
        from console.rehearse import stop_recording

        stop_recording()
        _collect_again(collecting)
        print(f"perpdesk: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BaseException:  # --help and argparse's own refusals exit here
        _collect_again(collecting)
        raise
    from console.app import PerpdeskApp
    from console.rehearse import stop_recording

    app = PerpdeskApp(runtime, long_lived_heap=True, **options)
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop_recording()
        _collect_again(collecting)
    if app.error_message:
        print(_one_line(app.error_message), file=sys.stderr)
        return EXIT_BAD_INPUT
    return app.return_code or 0


def _replay(argv: list[str]) -> int:
    """``perpdesk replay FILE``: the console on a recording (docs/CONSOLE.md, Rehearse)."""
    parser = _Parser(prog="perpdesk replay", description="Replay a recording (perpdesk --record) in the console.")
    parser.add_argument("file", type=Path, help="the recording (.jsonl.gz)")
    parser.add_argument("--speed", type=float, default=1.0, help="recorded seconds per second (default 1)")
    parser.add_argument("--paper", action="store_true", help="trade on paper against the replayed market")
    parser.add_argument("--venue", metavar="NAME", help="the recorded venue to replay (default: the first)")
    parser.add_argument("--symbol", metavar="SYM", help="market to open first, e.g. BTC")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file (TOML) instead of the default")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    from console.rehearse import build_replay

    try:
        if args.speed <= 0:
            raise BadInput("--speed must be above 0")
        settings = load_settings(args.config)
        runtime, clock, replay = build_replay(args.file, settings, speed=args.speed, paper=args.paper,
                                              venue=args.venue)  # fmt: skip
    except BadInput as exc:
        print(f"perpdesk: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, OSError, ImportError) as exc:  # not a recording, a missing venue extra
        print(f"perpdesk: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from console.replay_app import ReplayApp

    app = ReplayApp(runtime, replay=replay, clock=clock, symbol=args.symbol or settings.symbol,
                    theme=settings.theme, keymap=dict(settings.keymap), read_only=not args.paper)  # fmt: skip
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    return app.return_code or 0


def _venues(argv: list[str]) -> int:
    """``perpdesk venues``: what is available and which key files were found (secrets shown as ***)."""
    parser = _Parser(prog="perpdesk venues", description="List venues and the key files perpdesk finds.")
    parser.add_argument("--config", metavar="PATH", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    from connector.factory import describe_venues

    for status in describe_venues(settings.venue):
        mark = "ok " if status.ok else "-- "
        where = f" ({status.path}, from {status.source})" if status.path else ""
        print(f"{mark}{status.venue:<12} {status.message}{where}")
        for name, value in status.fields.items():
            print(f"      {name} = {value}")
    return 0


def _check(argv: list[str]) -> int:
    """``perpdesk check``: load config and keys, connect, print what was found, stop."""
    parser = _Parser(prog="perpdesk check", description="Connect to the configured venues, report, and exit.")
    parser.add_argument("--venue", action="append", metavar="NAME")
    parser.add_argument("--config", metavar="PATH", type=Path)
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for each venue")
    args = parser.parse_args(argv)
    known = _available_venues()
    for venue in args.venue or []:
        if venue not in known:
            raise BadInput(f"unknown venue {venue!r}: use one of {', '.join(known)}")
    settings = load_settings(args.config, **({"venues": args.venue} if args.venue else {}))
    runtime = build_runtime(settings)
    import asyncio

    return asyncio.run(_check_runtime(runtime, args.timeout, settings.config_path))


async def _check_runtime(runtime: Runtime, timeout: float, config_path: Path | None = None) -> int:
    import asyncio

    print(f"config: {config_path or '-'}")
    try:
        await asyncio.wait_for(runtime.start(), timeout)
    except Exception as exc:
        print(f"perpdesk: could not start: {_one_line(str(exc) or type(exc).__name__)}", file=sys.stderr)
        await runtime.stop()
        return 1
    failed = False
    try:
        md = runtime.market_data
        for venue in md.venues():
            symbols = md.symbols(venue)
            state = runtime.connection_state(venue)
            print(f"{venue}: {state.value}, {len(symbols)} markets ({', '.join(symbols[:8])}"
                  f"{', …' if len(symbols) > 8 else ''})")
            conn = runtime.connectors[venue]
            if not await _print_tops(md, conn, venue, timeout):
                failed = True
            try:
                margin = await asyncio.wait_for(conn.get_margin(), timeout)
                positions = await asyncio.wait_for(conn.get_positions(), timeout)
                opened = await asyncio.wait_for(conn.get_open_orders(), timeout)
            except Exception as exc:
                failed = True
                print(f"  account: not readable ({_one_line(str(exc) or type(exc).__name__)})")
                continue
            from console.formatting import money

            print(f"  equity {money(margin.equity_q)}, available {money(margin.available_q)}, "
                  f"{sum(1 for p in positions if p.size_i)} position(s), {len(opened)} open order(s)")
            _print_positions(md, venue, positions)
    finally:
        await runtime.stop()
    return 1 if failed else 0


async def _print_tops(md: MarketDataService, conn: IConnector, venue: str, timeout: float, limit: int = 8) -> bool:
    """Top of book as the venue reports it now (REST), for the first ``limit`` markets; False if any failed."""
    import asyncio

    ok = True
    for symbol in md.symbols(venue)[:limit]:
        try:
            bid, ask, _ = await asyncio.wait_for(conn.get_top_of_book(md.venue_symbol(venue, symbol)), timeout)
        except Exception as exc:
            print(f"  {symbol:<8} top of book not readable ({_one_line(str(exc) or type(exc).__name__)})")
            ok = False
            continue
        shown = [md.format_price(venue, symbol, p) if p is not None else "-" for p in (bid, ask)]
        print(f"  {symbol:<8} bid {shown[0]:>12}  ask {shown[1]:>12}")
    return ok


def _print_positions(md: MarketDataService, venue: str, positions: list[Position]) -> None:
    for p in positions:
        if not p.size_i:
            continue
        try:
            symbol = md.canonical(venue, p.symbol)
            size, entry = md.format_size(venue, symbol, abs(p.size_i)), md.format_price(venue, symbol, p.entry_price_i)
        except Exception:
            symbol, size, entry = p.symbol, str(abs(p.size_i)), str(p.entry_price_i)
        print(f"  position {symbol} {'LONG' if p.size_i > 0 else 'SHORT'} {size} @ {entry}")


def _export(argv: list[str]) -> int:
    """``perpdesk export fills|orders|reports [--since 24h] [--format csv|json] [--journal PATH] [--output PATH]``."""
    from console.export import EXPORTS

    parser = _Parser(prog="perpdesk export", description="Write fills or orders from the journal in trader units "
                     "(prices and sizes with each market's decimals, fees in quote). The journal is only read.")
    parser.add_argument("kind", choices=sorted(EXPORTS), help="what to export")
    parser.add_argument("--since", default="24h", help="how far back: 24h, 90m, 7d or all (default 24h)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--journal", metavar="PATH", type=Path, help="the journal to read (default: the configured one)")
    parser.add_argument("--config", metavar="PATH", type=Path)
    parser.add_argument("--output", metavar="PATH", type=Path, help="write here instead of standard output")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for each venue's market list")
    args = parser.parse_args(argv)
    import asyncio
    import time

    from console.export import market_decimals, markets_in, read_rows, render, since_ms

    settings = load_settings(args.config)
    try:
        cutoff = since_ms(args.since, time.time_ns() // 1_000_000)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    path = args.journal or settings.journal_path
    if path is None:
        from execution.journal import default_journal_path

        path = default_journal_path()
    try:
        rows = read_rows(path.expanduser(), args.kind, cutoff)
    except (OSError, ValueError) as exc:
        raise BadInput(_one_line(str(exc))) from None
    decimals = asyncio.run(market_decimals(markets_in(rows), settings, args.timeout)) if rows else {}
    text, unknown = render(args.kind, rows, decimals, args.format)
    for venue, venue_symbol in sorted(unknown):
        print(f"perpdesk export: {venue} {venue_symbol}: decimals unknown, its prices and sizes are scaled integers",
              file=sys.stderr)
    if args.output is not None:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _serve(argv: list[str]) -> int:
    """``perpdesk serve [--host H] [--port P] [--allow-remote] [--read-only] [console options]``."""
    parser = _Parser(prog="perpdesk serve", description="Serve the console to a browser, one console per tab; "
                     "the printed address carries the access token. Other options go to each console.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow an address other machines can reach (put TLS in front; an SSH tunnel is safer)")
    parser.add_argument("--read-only", action="store_true", help="every console only watches: trading is refused")
    args, rest = parser.parse_known_args(argv)
    console_args = build_parser().parse_args(rest)  # a typo in the console's options is reported now, not once per tab
    if console_args.record is not None:
        print("perpdesk serve: every tab would write the same recording; record from one console "
              "(perpdesk --record FILE)", file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    try:
        from console.serve import serve
    except ImportError as exc:
        print(f"perpdesk serve needs textual-serve ({exc.name} is missing): pip install -e '.[serve]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    return serve(args.host, args.port, rest, allow_remote=args.allow_remote, read_only=args.read_only)


if __name__ == "__main__":
    raise SystemExit(main())
