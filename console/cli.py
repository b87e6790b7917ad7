"""``perpdesk``: parse the command line, load settings, build the runtime, run the console.

Bad input never produces a traceback: one line on stderr saying what is wrong and how to
fix it, and exit code 2.  Heavy imports (Textual, the venues) happen after the arguments
are checked, so a typo is reported instantly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """A problem the user can fix; the message says how."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"perpdesk: {message} (see perpdesk --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perpdesk", description="A keyboard-driven terminal trading console for perpetual futures.")
    parser.add_argument("--venue", action="append", metavar="NAME", help="venue to trade (repeatable); default: sim")
    parser.add_argument("--symbol", metavar="SYM", help="market to open first, e.g. BTC")
    parser.add_argument("--theme", metavar="NAME", help="colour theme, e.g. perpdesk-light")
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file (TOML) instead of the default")
    return parser


def load_settings(config: Path | None) -> Any:
    """The settings object, or None when the settings module is not available."""
    if config is not None:
        if not config.exists():
            raise BadInput(f"config file {config} does not exist: create it or drop --config")
        if not config.is_file():
            raise BadInput(f"config file {config} is not a file")
        try:
            import tomllib

            tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"config file {config} cannot be read ({exc.__class__.__name__}): check its permissions") from None
        except tomllib.TOMLDecodeError as exc:
            raise BadInput(f"config file {config} is not valid TOML: {exc}") from None
    try:
        from connector import settings as settings_mod
    except ImportError:
        return None
    try:
        loader = getattr(settings_mod, "load_settings", None)
        if loader is not None:
            return loader(config) if config is not None else loader()
        if config is not None:
            return settings_mod.Settings(_config_file=config)
        return settings_mod.Settings()
    except BadInput:
        raise
    except Exception as exc:
        raise BadInput(_one_line(f"invalid settings{f' in {config}' if config else ''}: {exc}")) from None


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


def build_runtime(venues: list[str], settings: Any) -> Any:
    from execution.runtime import Runtime

    try:
        from connector.factory import create_connector
    except ImportError:
        from connector.sim import SimConnector

        return Runtime([SimConnector()], settings=settings)
    connectors = {}
    for venue in venues:
        try:
            connectors[venue] = create_connector(venue, **_venue_overrides(settings, venue))
        except (ValueError, OSError, ImportError) as exc:
            raise BadInput(_one_line(f"venue {venue}: {exc}")) from None
    return Runtime(connectors, settings=settings, journal_path=getattr(settings, "journal_path", None))


def _venue_overrides(settings: Any, venue: str) -> dict[str, Any]:
    """Per-venue options from the settings, if the settings expose them."""
    getter = getattr(settings, "connector_options", None)
    if callable(getter):
        return dict(getter(venue))
    return {}


def prepare(argv: list[str]) -> tuple[Any, dict[str, Any]]:
    """Check everything that can be checked before the screen opens; returns (runtime, app options)."""
    args = build_parser().parse_args(argv)
    settings = load_settings(args.config)
    venues = args.venue or list(getattr(settings, "venues", None) or ["sim"])
    known = _available_venues()
    for venue in venues:
        if venue not in known:
            raise BadInput(f"unknown venue {venue!r}: use one of {', '.join(known)}")
    if len(set(venues)) != len(venues):
        raise BadInput("a venue is given twice: give each --venue once")
    theme = args.theme or getattr(settings, "theme", None)
    if theme is not None and theme not in _theme_names():
        raise BadInput(f"unknown theme {theme!r}: use one of {', '.join(_theme_names())}")
    symbol = args.symbol
    if symbol is not None and not symbol.replace("-", "").replace("_", "").isalnum():
        raise BadInput(f"{symbol!r} is not a symbol: use a name like BTC")
    runtime = build_runtime(venues, settings)
    options = {
        "venue": venues[0] if args.venue else None,
        "symbol": symbol,
        "theme": theme,
        "keymap": dict(getattr(settings, "keymap", None) or {}),
    }
    confirm = getattr(settings, "confirm_above_q", None)
    if isinstance(confirm, int):
        options["confirm_above_q"] = confirm
    return runtime, options


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    try:
        runtime, options = prepare(argv)
    except BadInput as exc:
        print(f"perpdesk: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from console.app import PerpdeskApp

    app = PerpdeskApp(runtime, **options)
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    if app.error_message:
        print(_one_line(app.error_message), file=sys.stderr)
        return EXIT_BAD_INPUT
    return app.return_code or 0


def _serve(argv: list[str]) -> int:
    parser = _Parser(prog="perpdesk serve", description="Serve the console in a browser (no login: keep it local).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, rest = parser.parse_known_args(argv)
    from console.serve import serve

    return serve(args.host, args.port, rest)


if __name__ == "__main__":
    raise SystemExit(main())
