"""The SQLite journal: what we sent, what the venue said, and what we were running.

A restart (or an abrupt kill) must not lose an order or reuse a client order index,
so every order, state transition and fill is written here as it happens, before the
UI hears of it.  WAL mode with ``synchronous=NORMAL`` survives a killed process; the
writes are single small rows, cheap enough to run on the event loop.

Default file: ``platformdirs.user_data_dir("perpdesk")/journal.sqlite3``.  A file that
cannot be opened, is not a healthy perpdesk journal, or is open in another live
process raises ``JournalError`` naming the file and what to do; nothing is silently
recreated.

API
---
``Journal(path=None, *, durable=True)`` opens (creating if absent; a new journal's tables in one
transaction, so one write rather than one per table); ``close()``.  ``durable=False`` is for a journal
that does not outlive its process (the sim's, in a temporary directory): ``synchronous=OFF``, no fsync,
which also spares a cold start the WAL conversion's (issue 18).

Runs: ``start_run(ts_ms) -> run_id``; ``end_run(run_id, ts_ms)``; ``runs()`` (dicts,
``stopped_ms`` is ``None`` for a run that never stopped cleanly).

Orders (used by ``OrderService``): ``save_order(order)``, ``record_transition(order,
transition)``, ``record_fill(order, fill)``, ``load_orders(since_ms=None) -> list[Order]`` (with
fills and history; with ``since_ms`` only live orders, children of live parents and
those changed since), ``highwater(venue)`` / ``set_highwater(venue, index)``.

Parents (tracking limits, triggers, algos)::

    save_parent(parent_id: str, venue: str, symbol: str, params: dict, state: str,
                filled_i: int, child_client_order_index: int | None, *,
                avg_price_i: int | None = None, end_reason: str = "",
                done: bool = False, ts_ms: int | None = None, kind: str = "chase") -> None
    load_parents(live_only: bool = True, kind: str | None = "chase") -> list[dict]

``save_parent`` upserts one row per ``parent_id`` (call it on every change).
``params`` must be JSON-serialisable (ints, strs, bools, None, lists, dicts): it is
stored as JSON and returned as a dict.  ``done=True`` marks the parent finished;
``load_parents(live_only=True)`` returns only parents not done.  Each dict has keys
``parent_id, venue, symbol, params, state, filled_i, child_client_order_index,
avg_price_i, end_reason, done, created_ms, updated_ms, kind``.  ``kind`` keeps each owner's
parents apart (the tracking limit's are ``chase``; triggers and algos name their own).

Reconciliation log: ``log_reconcile(ts_ms, venue, subject, change, reason)``;
``load_reconcile_log(limit=200)`` newest last.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

from connector.interface import Fill, OrderStatus
from execution.orders.model import Order, Transition

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
"""2 added ``parents.kind`` (chase, trigger, scale, twap...); a version-1 journal is migrated on open."""
_APP_ID = 0x70657270  # "perp": marks the file as ours

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT, started_ms INTEGER NOT NULL, stopped_ms INTEGER, pid INTEGER
);
CREATE TABLE IF NOT EXISTS orders (
    venue TEXT NOT NULL, client_order_index INTEGER NOT NULL, symbol TEXT NOT NULL, venue_symbol TEXT NOT NULL,
    is_ask INTEGER NOT NULL, kind TEXT NOT NULL, price_i INTEGER NOT NULL, size_i INTEGER NOT NULL,
    post_only INTEGER NOT NULL, reduce_only INTEGER NOT NULL, order_id TEXT, state TEXT NOT NULL,
    filled_i INTEGER NOT NULL, reason TEXT NOT NULL, parent_id TEXT,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
    PRIMARY KEY (venue, client_order_index)
);
CREATE INDEX IF NOT EXISTS orders_state ON orders (state);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, venue TEXT NOT NULL, client_order_index INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_order ON transitions (venue, client_order_index);
CREATE TABLE IF NOT EXISTS fills (
    venue TEXT NOT NULL, client_order_index INTEGER NOT NULL, trade_id TEXT NOT NULL, symbol TEXT NOT NULL,
    order_id TEXT, is_ask INTEGER NOT NULL, price_i INTEGER NOT NULL, size_i INTEGER NOT NULL,
    fee_q INTEGER NOT NULL, is_maker INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
    PRIMARY KEY (venue, client_order_index, trade_id)
);
CREATE TABLE IF NOT EXISTS parents (
    parent_id TEXT PRIMARY KEY, venue TEXT NOT NULL, symbol TEXT NOT NULL, params TEXT NOT NULL,
    state TEXT NOT NULL, filled_i INTEGER NOT NULL, child_client_order_index INTEGER,
    avg_price_i INTEGER, end_reason TEXT NOT NULL, done INTEGER NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'chase'
);
CREATE TABLE IF NOT EXISTS highwater (venue TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reconcile_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, venue TEXT NOT NULL,
    subject TEXT NOT NULL, change TEXT NOT NULL, reason TEXT NOT NULL
);
"""

_ORDER_COLS = (
    "venue, client_order_index, symbol, venue_symbol, is_ask, kind, price_i, size_i, post_only, reduce_only, "
    "order_id, state, filled_i, reason, parent_id, created_ms, updated_ms"
)


class ParentJournal(Protocol):
    """The part of ``Journal`` that keeps parents (tracking limits, triggers, algos): what their
    owners depend on, so a test can hand them a plain double."""

    def save_parent(
        self,
        parent_id: str,
        venue: str,
        symbol: str,
        params: dict[str, Any],
        state: str,
        filled_i: int,
        child_client_order_index: int | None,
        *,
        avg_price_i: int | None = None,
        end_reason: str = "",
        done: bool = False,
        ts_ms: int | None = None,
        kind: str = "chase",
    ) -> None: ...

    def load_parents(self, live_only: bool = True, kind: str | None = "chase") -> list[dict[str, Any]]: ...


class JournalError(RuntimeError):
    """The journal file cannot be used; the message names it and says what to do."""


def default_journal_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("perpdesk")) / "journal.sqlite3"


CACHE_KIB = 256
"""SQLite's page cache for the journal, in KiB (its default is 2,000): the journal is written at its end
and read whole only at start, so a larger cache only fills, over a session, with pages written long ago
(measured in the soak: the default's 2 MB filled within the hour; 256 KiB, the same write speed)."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Journal:
    def __init__(self, path: str | os.PathLike[str] | None = None, *, durable: bool = True) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self.durable = durable
        self._lock_fd: int | None = None
        self._db = self._open()
        try:
            self._lock()
        except JournalError:
            self._db.close()
            raise

    def _lock(self) -> None:
        """Refuse a journal another process has open: two writers would hand out the same indices.

        A POSIX record lock on a file beside the journal: the kernel drops it when the
        holder dies, so a killed process never leaves a stale lock; one process may open
        its journal twice (tests simulating a restart do).
        """
        if fcntl is None or str(self.path) == ":memory:":
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot create the journal lock {lock_path}: {exc.strerror or exc}") from exc
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise JournalError(
                f"another perpdesk process is using the journal {self.path}: stop it first, or pass another "
                "journal path (two processes on one journal would reuse client order indices)"
            ) from exc
        self._lock_fd = fd

    # -- opening ---------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the journal directory {self.path.parent}: {exc.strerror or exc}; "
                "fix its permissions or pass another journal path"
            ) from exc
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(
                f"cannot open the journal {self.path}: {exc}; check the path and its permissions"
            ) from exc
        try:
            self._check(db, existed)
            if not self.durable:
                db.execute("PRAGMA synchronous=OFF")  # before the WAL conversion, which would fsync
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'NORMAL' if self.durable else 'OFF'}")
            db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            db.execute("PRAGMA foreign_keys=OFF")
            db.executescript(f"BEGIN;\n{_SCHEMA}\nCOMMIT;")  # one transaction: one write, not one per table
            db.execute("BEGIN")
            self._migrate(db)
            db.execute(f"PRAGMA application_id={_APP_ID}")
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except JournalError:
            db.close()
            raise
        except sqlite3.Error as exc:
            db.close()
            raise self._corrupt(str(exc)) from exc
        return db

    def _check(self, db: sqlite3.Connection, existed: bool) -> None:
        try:
            (app_id,) = db.execute("PRAGMA application_id").fetchone()
            if existed and app_id not in (0, _APP_ID):
                raise JournalError(
                    f"{self.path} is an SQLite file but not a perpdesk journal; pass another journal path"
                )
            (ok,) = db.execute("PRAGMA quick_check").fetchone()
            if ok != "ok":
                raise self._corrupt(ok)
            if existed:
                row = db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
                if row is None:
                    raise JournalError(
                        f"{self.path} is an SQLite file but not a perpdesk journal; pass another journal path"
                    )
                ver = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if ver is not None and int(ver[0]) > SCHEMA_VERSION:
                    raise JournalError(
                        f"the journal {self.path} was written by a newer perpdesk (schema {ver[0]}); upgrade perpdesk"
                    )
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(str(exc)) from exc

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """Bring a journal written by an older perpdesk up to this schema (additive changes only)."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(parents)")}
        if "kind" not in columns:
            db.execute("ALTER TABLE parents ADD COLUMN kind TEXT NOT NULL DEFAULT 'chase'")

    def _corrupt(self, detail: str) -> JournalError:
        return JournalError(
            f"the journal {self.path} is corrupt or unreadable ({detail}). Nothing was changed. "
            f"Move it aside (e.g. rename it to {self.path.name}.bad) and start again: perpdesk then starts "
            "a new journal and reconciles open orders and positions from the venue"
        )

    def close(self) -> None:
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        try:
            self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write to the journal {self.path}: {exc}") from exc

    def _many(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        try:
            self._db.execute("BEGIN")
            for sql, args in statements:
                self._db.execute(sql, args)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise JournalError(f"cannot write to the journal {self.path}: {exc}") from exc

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, ts_ms: int | None = None) -> int:
        try:
            cur = self._db.execute(
                "INSERT INTO runs (started_ms, pid) VALUES (?, ?)",
                (ts_ms if ts_ms is not None else _now_ms(), os.getpid()),
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write to the journal {self.path}: {exc}") from exc
        return int(cur.lastrowid or 0)

    def end_run(self, run_id: int, ts_ms: int | None = None) -> None:
        self._write("UPDATE runs SET stopped_ms=? WHERE run_id=?", (ts_ms if ts_ms is not None else _now_ms(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT run_id, started_ms, stopped_ms, pid FROM runs ORDER BY run_id").fetchall()
        return [dict(zip(("run_id", "started_ms", "stopped_ms", "pid"), r, strict=True)) for r in rows]

    # -- orders ----------------------------------------------------------------------------

    @staticmethod
    def _order_row(o: Order) -> tuple[Any, ...]:
        return (
            o.venue,
            o.client_order_index,
            o.symbol,
            o.venue_symbol,
            int(o.is_ask),
            o.kind,
            o.price_i,
            o.size_i,
            int(o.post_only),
            int(o.reduce_only),
            o.order_id,
            str(o.state),
            o.filled_i,
            o.reason,
            o.parent_id,
            o.created_ms,
            o.updated_ms,
        )

    _UPSERT = f"INSERT OR REPLACE INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * 17)})"

    def save_order(self, order: Order) -> None:
        self._write(self._UPSERT, self._order_row(order))

    def record_transition(self, order: Order, t: Transition) -> None:
        self._many(
            [
                (self._UPSERT, self._order_row(order)),
                (
                    "INSERT INTO transitions (venue, client_order_index, ts_ms, from_state, to_state, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (order.venue, order.client_order_index, t.ts_ms, str(t.from_state), str(t.to_state), t.reason),
                ),
            ]
        )

    def record_fill(self, order: Order, fill: Fill) -> None:
        self._write(
            "INSERT OR IGNORE INTO fills (venue, client_order_index, trade_id, symbol, order_id, is_ask, price_i, "
            "size_i, fee_q, is_maker, ts_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order.venue,
                order.client_order_index,
                fill.trade_id,
                fill.symbol,
                fill.order_id,
                int(fill.is_ask),
                fill.price_i,
                fill.size_i,
                fill.fee_q,
                int(fill.is_maker),
                fill.ts_ms,
            ),
        )

    def load_orders(self, since_ms: int | None = None) -> list[Order]:
        """Journaled orders with their fills and history, oldest first.

        With ``since_ms``: every order not yet final, every child of a live tracking
        parent (its fills count towards the parent), and those changed since then (a long
        journal is not read whole on every start).
        """
        where, args = "", ()
        if since_ms is not None:
            live = ", ".join(f"'{s}'" for s in OrderStatus if not s.is_final)
            where, args = (
                f" WHERE o.state IN ({live}) OR o.updated_ms >= ?"
                " OR o.parent_id IN (SELECT parent_id FROM parents WHERE done=0)",
                (since_ms,),
            )
        try:
            return self._load_orders(where, args)
        except (sqlite3.Error, ValueError) as exc:
            raise self._corrupt(f"while loading orders: {exc}") from exc

    def _load_orders(self, where: str, args: tuple[Any, ...]) -> list[Order]:
        orders: dict[tuple[str, int], Order] = {}
        cols = ", ".join(f"o.{c.strip()}" for c in _ORDER_COLS.split(","))
        for r in self._db.execute(
            f"SELECT {cols} FROM orders o{where} ORDER BY o.created_ms, o.client_order_index", args
        ):
            o = Order(
                venue=r[0],
                client_order_index=r[1],
                symbol=r[2],
                venue_symbol=r[3],
                is_ask=bool(r[4]),
                kind=r[5],
                price_i=r[6],
                size_i=r[7],
                post_only=bool(r[8]),
                reduce_only=bool(r[9]),
                order_id=r[10],
                state=OrderStatus(r[11]),
                filled_i=r[12],
                reason=r[13],
                parent_id=r[14],
                created_ms=r[15],
                updated_ms=r[16],
            )
            orders[o.key] = o
        for r in self._db.execute(
            "SELECT t.venue, t.client_order_index, t.ts_ms, t.from_state, t.to_state, t.reason FROM transitions t "
            f"JOIN orders o USING (venue, client_order_index){where} ORDER BY t.id",
            args,
        ):
            o = orders.get((r[0], r[1]))
            if o is not None:
                o.history.append(Transition(r[2], OrderStatus(r[3]), OrderStatus(r[4]), r[5]))
        for r in self._db.execute(
            "SELECT f.venue, f.client_order_index, f.trade_id, f.symbol, f.order_id, f.is_ask, f.price_i, f.size_i, "
            f"f.fee_q, f.is_maker, f.ts_ms FROM fills f JOIN orders o USING (venue, client_order_index){where} "
            "ORDER BY f.rowid",
            args,
        ):
            o = orders.get((r[0], r[1]))
            if o is not None:
                o.take_fill(Fill(r[3], r[1], r[4], r[2], bool(r[5]), r[6], r[7], r[8], bool(r[9]), r[10]))
        return list(orders.values())

    def highwater(self, venue: str) -> int:
        """The highest client order index handed out (or stepped over) on ``venue``; 0 if none."""
        row = self._db.execute("SELECT value FROM highwater WHERE venue=?", (venue,)).fetchone()
        return int(row[0]) if row else 0

    def set_highwater(self, venue: str, index: int) -> None:
        self._write(
            "INSERT INTO highwater (venue, value) VALUES (?, ?) "
            "ON CONFLICT(venue) DO UPDATE SET value=max(value, excluded.value)",
            (venue, index),
        )

    # -- tracking-limit parents ------------------------------------------------------------

    def save_parent(
        self,
        parent_id: str,
        venue: str,
        symbol: str,
        params: dict[str, Any],
        state: str,
        filled_i: int,
        child_client_order_index: int | None,
        *,
        avg_price_i: int | None = None,
        end_reason: str = "",
        done: bool = False,
        ts_ms: int | None = None,
        kind: str = "chase",
    ) -> None:
        try:
            params_json = json.dumps(params, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"tracking parent {parent_id}: params must be JSON-serialisable ({exc})") from exc
        now = ts_ms if ts_ms is not None else _now_ms()
        self._write(
            "INSERT INTO parents (parent_id, venue, symbol, params, state, filled_i, child_client_order_index, "
            "avg_price_i, end_reason, done, created_ms, updated_ms, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(parent_id) DO UPDATE SET venue=excluded.venue, symbol=excluded.symbol, kind=excluded.kind, "
            "params=excluded.params, state=excluded.state, filled_i=excluded.filled_i, "
            "child_client_order_index=excluded.child_client_order_index, avg_price_i=excluded.avg_price_i, "
            "end_reason=excluded.end_reason, done=excluded.done, updated_ms=excluded.updated_ms",
            (
                parent_id,
                venue,
                symbol,
                params_json,
                state,
                filled_i,
                child_client_order_index,
                avg_price_i,
                end_reason,
                int(done),
                now,
                now,
                kind,
            ),
        )

    def load_parents(self, live_only: bool = True, kind: str | None = "chase") -> list[dict[str, Any]]:
        """Parents of one ``kind`` (``None``: every kind), oldest first."""
        keys = (
            "parent_id",
            "venue",
            "symbol",
            "params",
            "state",
            "filled_i",
            "child_client_order_index",
            "avg_price_i",
            "end_reason",
            "done",
            "created_ms",
            "updated_ms",
            "kind",
        )
        where: list[str] = []
        args: list[object] = []
        if live_only:
            where.append("done=0")
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        sql = f"SELECT {', '.join(keys)} FROM parents"
        if where:
            sql += " WHERE " + " AND ".join(where)
        out = []
        try:
            for r in self._db.execute(sql + " ORDER BY created_ms, parent_id", args):
                d = dict(zip(keys, r, strict=True))
                d["params"] = json.loads(d["params"])
                d["done"] = bool(d["done"])
                out.append(d)
        except (sqlite3.Error, ValueError) as exc:
            raise self._corrupt(f"while loading tracking parents: {exc}") from exc
        return out

    # -- reconciliation log ----------------------------------------------------------------

    def log_reconcile(self, ts_ms: int, venue: str, subject: str, change: str, reason: str) -> None:
        self._write(
            "INSERT INTO reconcile_log (ts_ms, venue, subject, change, reason) VALUES (?, ?, ?, ?, ?)",
            (ts_ms, venue, subject, change, reason),
        )

    def load_reconcile_log(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT ts_ms, venue, subject, change, reason FROM reconcile_log ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        keys = ("ts_ms", "venue", "subject", "change", "reason")
        return [dict(zip(keys, r, strict=True)) for r in reversed(rows)]

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"
