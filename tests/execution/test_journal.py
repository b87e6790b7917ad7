"""The SQLite journal: orders, history and fills survive a reopen; bad files stop with a clear error."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from connector.interface import Fill, OrderStatus
from execution.journal import Journal, JournalError, default_journal_path
from execution.orders import OrderJournal, OrderService
from tests.execution.orders.test_service import ScriptedVenue

S = OrderStatus


async def test_orders_history_and_fills_round_trip(tmp_path, clock):
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    svc = OrderService({"fake": ScriptedVenue()}, None, journal=journal, clock=clock)
    order = await svc.submit_limit("fake", "BTC", is_ask=True, size_i=10, price_i=1234, post_only=True, parent_id="p1")
    svc.ingest_update("fake", Fill("BTC", order.client_order_index, order.order_id, "t1", True, 1234, 4, 5, True, 9))
    journal.close()

    loaded = Journal(path).load_orders()
    assert len(loaded) == 1
    got = loaded[0]
    assert (got.venue, got.client_order_index, got.symbol, got.is_ask, got.kind) == (
        "fake",
        order.client_order_index,
        "BTC",
        True,
        "limit",
    )
    assert (got.price_i, got.size_i, got.post_only, got.parent_id, got.order_id) == (
        1234,
        10,
        True,
        "p1",
        order.order_id,
    )
    assert got.state == S.PARTIALLY_FILLED and got.filled_i == 4
    assert got.history == order.history
    assert got.fills == order.fills


async def test_client_order_indices_are_never_reused_after_a_restart(tmp_path, clock):
    path = tmp_path / "j.sqlite3"
    first = OrderService({"fake": ScriptedVenue()}, None, journal=Journal(path), clock=clock)
    used = {
        (await first.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)).client_order_index
        for _ in range(3)
    }
    # same clock reading after the restart: only the journal's high-water mark keeps them apart
    second = OrderService({"fake": ScriptedVenue()}, None, journal=Journal(path), clock=clock)
    nxt = await second.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)
    assert nxt.client_order_index > max(used)


def test_tracking_parents_round_trip_and_live_only_filter(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.save_parent("a", "sim", "BTC", {"offset_ticks": 1, "limit_price_i": None}, "WORKING", 0, 17, ts_ms=1)
    journal.save_parent(
        "b", "sim", "ETH", {"offset_ticks": 0}, "DONE", 5, None, done=True, end_reason="filled", ts_ms=2
    )
    journal.save_parent("a", "sim", "BTC", {"offset_ticks": 1, "limit_price_i": None}, "WORKING", 3, 18, ts_ms=3)
    journal.close()
    again = Journal(tmp_path / "j.sqlite3")
    live = again.load_parents()
    assert [p["parent_id"] for p in live] == ["a"]
    assert live[0]["filled_i"] == 3 and live[0]["child_client_order_index"] == 18
    assert live[0]["params"] == {"offset_ticks": 1, "limit_price_i": None}
    assert live[0]["created_ms"] == 1 and live[0]["updated_ms"] == 3
    assert {p["parent_id"] for p in again.load_parents(live_only=False)} == {"a", "b"}


def test_parents_of_each_kind_are_kept_apart(tmp_path):
    """A trigger's or an algo's parent must never be restored as a chase (or the other way round)."""
    journal = Journal(tmp_path / "j.sqlite3")
    journal.save_parent("c", "sim", "BTC", {}, "WORKING", 0, None, ts_ms=1)
    journal.save_parent("t", "sim", "BTC", {"kind": "stop_market"}, "ARMED", 0, None, ts_ms=2, kind="trigger")
    assert [p["parent_id"] for p in journal.load_parents()] == ["c"]
    assert [p["parent_id"] for p in journal.load_parents(kind="trigger")] == ["t"]
    assert [(p["parent_id"], p["kind"]) for p in journal.load_parents(kind=None)] == [("c", "chase"), ("t", "trigger")]


def test_a_version_1_journal_is_migrated_and_its_parents_stay_chases(tmp_path):
    path = tmp_path / "old.sqlite3"
    journal = Journal(path)
    journal.save_parent("c", "sim", "BTC", {}, "WORKING", 0, None, ts_ms=1)
    journal.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE parents DROP COLUMN kind")
    db.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    db.commit()
    db.close()
    again = Journal(path)
    assert [(p["parent_id"], p["kind"]) for p in again.load_parents()] == [("c", "chase")]
    again.save_parent("t", "sim", "BTC", {}, "ARMED", 0, None, kind="trigger")
    assert [p["parent_id"] for p in again.load_parents(kind="trigger")] == ["t"]
    again.close()
    (version,) = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert version == "2"


def test_parent_params_that_are_not_json_are_refused_clearly(tmp_path):
    from decimal import Decimal

    journal = Journal(tmp_path / "j.sqlite3")
    with pytest.raises(ValueError, match="JSON"):
        journal.save_parent("a", "sim", "BTC", {"price": Decimal("1.5")}, "WORKING", 0, None)


def test_a_corrupt_journal_stops_with_a_message_naming_the_file_and_the_fix(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(JournalError) as err:
        Journal(path)
    msg = str(err.value)
    assert str(path) in msg and "corrupt" in msg and "Move it aside" in msg
    assert path.read_bytes().startswith(b"this is not a database")  # nothing silently replaced


def test_a_damaged_page_is_reported_not_ignored(tmp_path):
    path = tmp_path / "journal.sqlite3"
    j = Journal(path)
    for i in range(200):
        j.log_reconcile(i, "sim", f"order {i}", "OPEN -> CANCELLED", "x" * 200)
    j._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    j.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 512] = b"\xff" * 512
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="corrupt"):
        Journal(path)


def test_another_sqlite_file_is_not_taken_for_a_journal(tmp_path):
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="not a perpdesk journal"):
        Journal(path)


def test_an_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JournalError, match="journal directory"):
        Journal(blocker / "sub" / "journal.sqlite3")


def test_default_path_is_in_the_user_data_dir(tmp_path):
    assert default_journal_path() == tmp_path / "xdg-data" / "perpdesk" / "journal.sqlite3"


def test_reconcile_log_is_kept_newest_last(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    j.log_reconcile(1, "sim", "order 1", "OPEN -> CANCELLED", "venue cancelled it")
    j.log_reconcile(2, "sim", "order 2", "OPEN -> FILLED", "venue filled it")
    assert [r["subject"] for r in j.load_reconcile_log()] == ["order 1", "order 2"]


async def test_loading_since_a_time_keeps_live_orders_children_of_live_parents_and_recent_ones(tmp_path, clock):
    journal = Journal(tmp_path / "j.sqlite3")
    svc = OrderService({"fake": ScriptedVenue()}, None, journal=journal, clock=clock)
    old_done = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=1)
    svc.ingest_update("fake", Fill("BTC", old_done.client_order_index, None, "t", False, 1, 1, 0, True, 0))
    old_live = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=2)
    old_child = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=4, parent_id="chase-1")
    svc.ingest_update("fake", Fill("BTC", old_child.client_order_index, None, "t2", False, 4, 1, 0, True, 0))
    journal.save_parent("chase-1", "fake", "BTC", {}, "WORKING", 1, None)
    await clock.advance(100)
    recent = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=1, price_i=3)
    got = {o.client_order_index: o for o in journal.load_orders(since_ms=clock.now_ms() - 50_000)}
    assert set(got) == {old_live.client_order_index, old_child.client_order_index, recent.client_order_index}
    assert got[recent.client_order_index].history == recent.history


async def test_every_transition_is_journaled_before_listeners_hear_of_it(tmp_path, clock):
    journal = Journal(tmp_path / "j.sqlite3")
    svc = OrderService({"fake": ScriptedVenue()}, None, journal=journal, clock=clock)
    mismatches = []

    def listener(order):
        (stored,) = [o for o in journal.load_orders() if o.key == order.key]
        if (stored.state, stored.filled_i, len(stored.history)) != (order.state, order.filled_i, len(order.history)):
            mismatches.append((stored.state, order.state))

    svc.add_listener(listener)
    order = await svc.submit_limit("fake", "BTC", is_ask=False, size_i=10, price_i=1000)
    svc.ingest_update("fake", Fill("BTC", order.client_order_index, None, "t1", False, 1000, 10, 0, True, 0))
    assert order.state == S.FILLED
    assert mismatches == []


def test_a_journal_open_in_another_process_is_refused_until_that_process_ends(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "journal.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from execution.journal import Journal; Journal(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline().strip() == b"open"
        with pytest.raises(JournalError, match="another perpdesk process is using the journal"):
            Journal(path)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    Journal(path).close()  # a dead holder leaves no stale lock


def _execution_imports(path: Path) -> set[str]:
    """Every ``execution.*`` module a file imports, TYPE_CHECKING blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m == "execution" or m.startswith("execution.")}


def test_the_journal_takes_only_the_order_model_and_the_orders_package_never_imports_it():
    assert isinstance(Journal(":memory:"), OrderJournal)
    execution_dir = Path(__file__).resolve().parents[2] / "execution"
    assert _execution_imports(execution_dir / "journal.py") == {"execution.orders.model"}
    for module in sorted((execution_dir / "orders").glob("*.py")):
        assert "execution.journal" not in _execution_imports(module), module.name


def test_the_page_cache_stays_small_as_the_journal_grows(tmp_path):
    """A session's journal grows all day; SQLite's page cache must not grow with it (issue 18, the soak)."""
    import ctypes

    try:
        memory_used = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
    except (OSError, AttributeError):
        pytest.skip("no shared libsqlite3 to ask")
    memory_used.restype = ctypes.c_int64
    j = Journal(tmp_path / "journal.sqlite3")
    before = memory_used()
    for i in range(10_000):  # ~4 MB of rows
        j.log_reconcile(i, "sim", f"order {i}", "OPEN -> CANCELLED", "x" * 300)
    grown = memory_used() - before
    j.close()
    assert grown < 512 * 1024, f"SQLite holds {grown / 2**20:.2f} MB more after 4 MB written"  # default: ~2 MB
