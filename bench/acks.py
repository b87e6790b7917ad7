"""Order ack as the trader meets it: ``perpdesk`` in a real pty, a key press → OPEN on the screen.

For each venue (Hyperliquid, Lighter, Backpack, Binance USDⓈ-M) the venue's fake runs in a process of
its own (``python -m tests.fakes.launch VENUE --unlimited --orders-file F``) and ``perpdesk --venue
VENUE`` in another, in a 120×40 pseudo-terminal whose bytes feed a terminal emulator (pyte), pointed
at the fake as the README's demo section does (``PERPDESK_VENUE__<VENUE>__BASE_URL`` …).  The
console's own request budgets are lifted through the same settings (``requests_per_min`` for Lighter,
``requests_per_s``/``burst`` for Backpack; Binance's follow the fake's), so ``ORDERS`` orders in a row
measure the path, not the budget.

Each order is a command line a trader types, ``:buy 0.01 SYM @ P`` with ``P`` 3% under the bid read
off the screen (so it rests, inside the 5% fat-finger band; one tick lower each order, so every row
is its own), then:

* echo (the baseline, interleaved): the line but its last key is written, and once it shows, the
  last key; the time until the screen shows it is the console's own key → paint floor;
* ack: Enter, and the time until the Orders tab shows that price with ``OPEN``.  The fake logs when
  its engine booked the order (``time.monotonic()``, the clock every process here shares), which
  splits the ack into key → venue and venue → screen;
* then ``z`` (cancel the newest order) and the wait until the row has gone.

Sanity check (fails the run): every order is acked, booked once by the venue and cancelled; the
console printed no traceback.  Bounded: ``VENUE_TIMEOUT_S`` a venue (about 40 s each on an idle
2-core box, 4 venues); each process is stopped by its PID (the console with ctrl+c, then SIGKILL).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path

from bench.stats import Figure, median, percentile

VENUES = ("hyperliquid", "lighter", "backpack", "binance-usdm")
ORDERS = 50
WARM_UP = 3
COLS, ROWS = 120, 40
BELOW_BID = 0.03
VENUE_TIMEOUT_S = 240.0
WAIT_S = 20.0
"""One wait on the screen: only ends a hang (an ack is expected in well under a second)."""
KEY_FILE_VARS = {
    "hyperliquid": "PERPDESK_HYPERLIQUID_KEY_FILE",
    "lighter": "PERPDESK_LIGHTER_KEY_FILE",
    "backpack": "PERPDESK_BACKPACK_KEY_FILE",
    "binance-usdm": "PERPDESK_BINANCE_USDM_KEY_FILE",
}
BUDGETS = {
    "lighter": {"REQUESTS_PER_MIN": "1000000"},
    "backpack": {"REQUESTS_PER_S": "1000000", "BURST": "1000000"},
}


class Pty:
    """The console's terminal: bytes from the pty fed to an emulated screen, with the time each
    change arrived."""

    def __init__(self, pid: int, fd: int) -> None:
        import pyte

        self.pid, self.fd = pid, fd
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw_tail = b""
        self.traceback = False
        self.read_at = 0.0
        """When the last chunk left the pty: a change is timed by the chunk that carried it, not by
        when this (pure-Python) emulator finished drawing it."""

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, wait_s: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if not ready:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        self.read_at = time.monotonic()
        self.stream.feed(chunk)
        self.raw_tail = (self.raw_tail + chunk)[-4096:]
        self.traceback |= b"Traceback" in self.raw_tail
        return True

    def wait_for(self, check: Callable[[str], object], what: str, timeout_s: float = WAIT_S) -> tuple[float, object]:
        """(the monotonic time the chunk that showed it was read, what ``check`` returned)."""
        deadline = time.monotonic() + timeout_s
        found = check(self.text())
        if found:
            return time.monotonic(), found
        while time.monotonic() < deadline:
            if self.pump(0.05):
                found = check(self.text())
                if found:
                    return self.read_at, found
        raise AssertionError(f"the screen never showed {what}:\n{self.text()}")

    def write(self, data: bytes) -> float:
        t = time.monotonic()
        os.write(self.fd, data)
        return t

    def stop(self) -> None:
        try:
            os.write(self.fd, b"\x03")  # ctrl+c
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                done, _ = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    return
                self.pump(0.1)
        finally:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(self.fd)


def start_console(venue: str, base_url: str, ws_url: str, key_file: Path, tmp: Path) -> Pty:
    """``perpdesk --venue VENUE`` in a pty, pointed at the fake."""
    from tests.chaos.procs import child_env

    section = f"PERPDESK_VENUE__{venue.upper()}__"
    env = {**child_env(), "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_DATA_HOME": str(tmp / "data"),
           "TERM": "xterm-256color", f"{section}BASE_URL": base_url, f"{section}WS_URL": ws_url,
           KEY_FILE_VARS[venue]: str(key_file)}  # fmt: skip
    env.update({section + k: v for k, v in BUDGETS.get(venue, {}).items()})
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    perpdesk = str(Path(sys.executable).parent / "perpdesk")
    pid, fd = pty.fork()
    if pid == 0:  # the child: only exec (or exit)
        try:
            os.execve(perpdesk, [perpdesk, "--venue", venue], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    return Pty(pid, fd)


def _market(text: str, venue: str) -> tuple[str, float] | None:
    """The selected market's symbol (the header's ``SYM@venue``) and its bid (its Markets row)."""
    head = re.search(rf"(\S+)@{re.escape(venue)}", text)
    row = re.search(r"▸(\S+)\s+([\d,]+\.?\d*)\s", text)
    if not head or not row or row.group(1) != head.group(1):
        return None
    return head.group(1), float(row.group(2).replace(",", ""))


def _row(price: int, state: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\d.,]){price}(?:\.0*)?\s.*\b{state}\b")


def _booked(path: Path, after: float) -> float | None:
    """The fake's booking time of the first order it opened after ``after``."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        t, status, _ = line.split()
        if status == "OPEN" and float(t) > after:
            return float(t)
    return None


def _venue(venue: str) -> Figure:
    from tests.chaos.procs import start_fake

    echo: list[float] = []
    acks: list[float] = []
    to_venue: list[float] = []
    to_screen: list[float] = []
    unbooked = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perpdesk-bench-") as name:
        tmp = Path(name)
        booked_file = tmp / "booked.txt"
        fake = start_fake(venue, tmp, unlimited=True, orders_file=str(booked_file))
        try:
            term = start_console(venue, fake.base_url, fake.ws_url, fake.key_file, tmp)
            try:
                _, found = term.wait_for(lambda s: "spread" in s and _market(s, venue), "a painted book", 60)
                symbol, bid = found  # type: ignore[misc]
                top = int(bid * (1 - BELOW_BID))
                for k in range(WARM_UP + ORDERS):
                    if time.monotonic() - started > VENUE_TIMEOUT_S:
                        raise TimeoutError(f"{venue}: {k} orders in {VENUE_TIMEOUT_S:.0f} s")
                    price = top - k
                    line = f":buy 0.01 {symbol} @ {price}"
                    term.write(line[:-1].encode())
                    term.wait_for(lambda s, typed=line[1:-1]: typed in s, "the typed line")
                    t0 = term.write(line[-1].encode())
                    t1, _ = term.wait_for(lambda s, typed=line[1:]: typed in s, "the echoed key")
                    key = term.write(b"\r")
                    shown, _ = term.wait_for(lambda s, p=price: _row(p, "OPEN").search(s), f"{price} OPEN")
                    term.write(b"z")
                    term.wait_for(lambda s, p=price: not _row(p, "OPEN").search(s), f"{price} cancelled")
                    if k < WARM_UP:
                        continue
                    echo.append(t1 - t0)
                    acks.append(shown - key)
                    at_venue = _booked(booked_file, key)
                    if at_venue is None or at_venue > shown:
                        unbooked += 1
                        continue
                    to_venue.append(at_venue - key)
                    to_screen.append(shown - at_venue)
                if term.traceback:
                    raise AssertionError(f"{venue}: the console printed a traceback")
            finally:
                term.stop()
        finally:
            fake.stop()
        if unbooked:
            raise AssertionError(f"{venue}: {unbooked} of {ORDERS} acked orders without the venue's booking time")
    ms = 1000
    note = (
        f"{len(acks)} orders typed on the command bar, each cancelled with z; key → venue booked p50 "
        f"{median(to_venue) * ms:.3g} ms, p99 {percentile(to_venue, 99) * ms:.3g}; venue → OPEN on screen p50 "
        f"{median(to_screen) * ms:.3g} ms, p99 {percentile(to_screen, 99) * ms:.3g}; echo p99 "
        f"{percentile(echo, 99) * ms:.3g} ms; fake in its own process, request budgets lifted"
    )
    return Figure(
        "acks",
        f"{venue} key → OPEN on screen (console in a pty)",
        median(acks) * ms,
        "ms",
        p99=percentile(acks, 99) * ms,
        baseline=median(echo) * ms,
        baseline_name="key echo, interleaved",
        note=note,
        extra={
            "orders": len(acks),
            "to_venue_p50_ms": median(to_venue) * ms,
            "to_venue_p99_ms": percentile(to_venue, 99) * ms,
            "to_screen_p50_ms": median(to_screen) * ms,
            "to_screen_p99_ms": percentile(to_screen, 99) * ms,
            "echo_p99_ms": percentile(echo, 99) * ms,
        },
    )


def run() -> list[Figure]:
    return [_venue(venue) for venue in VENUES]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        VENUES = tuple(sys.argv[1:])
    for f in run():
        print(f"{f.name}: p50 {f.value:.3g} ms p99 {f.p99:.3g} ms vs {f.baseline_name} {f.baseline:.3g} — {f.note}")
