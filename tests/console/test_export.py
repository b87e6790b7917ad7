"""``perpdesk export``: fills and orders from the journal in trader units, CSV or JSON, read-only
(a console holding the journal keeps it); ``perpdesk --help`` lists every command and --journal."""

from __future__ import annotations

import csv
import gc
import io
import json
import time

from connector.interface import Fill, OrderStatus
from console.cli import main
from console.export import EXPORTS, since_ms
from execution.journal import Journal
from execution.orders.model import Order


def _journal_with_a_fill(path, *, age_ms: int = 60_000) -> Journal:
    now = time.time_ns() // 1_000_000 - age_ms
    j = Journal(path)
    o = Order("sim", "BTC", "BTC-PERP", 7, is_ask=False, kind="limit", price_i=650_123, size_i=250, post_only=True,
              order_id="1001", state=OrderStatus.FILLED, filled_i=250, created_ms=now, updated_ms=now)
    j.save_order(o)
    j.record_fill(o, Fill("BTC-PERP", 7, "1001", "t1", False, 650_123, 250, 3_250_615, True, now))
    return j


def test_fills_as_csv_in_trader_units_while_the_journal_is_held(tmp_path, capsys):
    path = tmp_path / "journal.sqlite3"
    held = _journal_with_a_fill(path)  # a running console has it open (and locked)
    try:
        assert main(["export", "fills", "--journal", str(path), "--since", "24h", "--format", "csv"]) == 0
    finally:
        held.close()
    out = capsys.readouterr()
    [row] = list(csv.DictReader(io.StringIO(out.out)))
    assert row["symbol"] == "BTC" and row["side"] == "BUY" and row["role"] == "maker"
    assert row["price"] == "65012.3" and row["size"] == "0.0250" and row["fee"] == "3.250615"
    assert row["time"].endswith("Z") and row["order_id"] == "1001"
    assert "scaled" not in out.err


def test_orders_as_json_and_since_leaves_older_ones_out(tmp_path, capsys):
    path = tmp_path / "journal.sqlite3"
    _journal_with_a_fill(path, age_ms=2 * 3_600_000).close()
    assert main(["export", "orders", "--journal", str(path), "--since", "3h", "--format", "json"]) == 0
    [order] = json.loads(capsys.readouterr().out)
    assert order["state"] == "FILLED" and order["flags"] == "post-only" and order["filled"] == "0.0250"
    assert main(["export", "orders", "--journal", str(path), "--since", "1h", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_bad_since_and_missing_journal_say_what_to_fix(tmp_path, capsys):
    assert main(["export", "fills", "--journal", str(tmp_path / "none.sqlite3")]) == 2
    assert "no journal at" in capsys.readouterr().err
    path = tmp_path / "journal.sqlite3"
    _journal_with_a_fill(path).close()
    assert main(["export", "fills", "--journal", str(path), "--since", "yesterday"]) == 2
    assert "24h" in capsys.readouterr().err


def test_since_parses_ages():
    assert since_ms("24h", 100_000_000) == 100_000_000 - 86_400_000
    assert since_ms("90m", 10_000_000) == 10_000_000 - 5_400_000
    assert since_ms("all", 5) == 0
    assert set(EXPORTS) >= {"fills", "orders"}


def test_help_lists_the_commands_and_journal(capsys):
    try:
        main(["--help"])
    except SystemExit:
        pass
    text = capsys.readouterr().out
    for word in ("venues", "check", "serve", "export", "--journal"):
        assert word in text
    assert gc.isenabled()  # perpdesk starts with the collector off: --help must not leave it so


def test_journal_option_chooses_the_consoles_journal(tmp_path):
    from console.cli import prepare

    path = tmp_path / "other.sqlite3"
    runtime, _options = prepare(["--journal", str(path)])
    try:
        assert runtime.journal.path == path
    finally:
        runtime.journal.close()


def test_reports_of_chases_scales_and_twaps_in_trader_units(tmp_path, capsys):
    """Issue 17: every working order's execution report leaves by ``perpdesk export reports``;
    a trigger's parent (no report) is not one of them."""
    from execution.tracking import ExecutionReport

    path = tmp_path / "journal.sqlite3"
    j = _journal_with_a_fill(path)
    now = time.time_ns() // 1_000_000
    report = ExecutionReport(target_i=500, filled_i=250, arrival_mid_i=650_000, avg_price_i=650_123, slippage_i=123,
                             slippage_ppm=189, maker_filled_i=250, maker_ppm=1_000_000, reprices=3, children=2,
                             first_fill_ms=1_500, last_fill_ms=2_250, fees_q=3_250_615)  # fmt: skip
    j.save_parent("7", "sim", "BTC", {"is_ask": False, "report": report.as_record()}, "RUNNING", 250, None,
                  ts_ms=now, kind="twap")  # fmt: skip
    j.save_parent("T1", "sim", "BTC", {"is_ask": True}, "ARMED", 0, None, ts_ms=now, kind="trigger")
    j.close()
    assert main(["export", "reports", "--journal", str(path), "--since", "24h", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["kind"] == "twap" and row["side"] == "BUY" and row["state"] == "RUNNING"
    assert row["target"] == "0.0500" and row["filled"] == "0.0250"
    assert row["arrival_mid"] == "65000.0" and row["avg_price"] == "65012.3"
    assert row["slippage_bp"] == "1.89" and row["maker_pct"] == "100.0000"
    assert row["reprices"] == "3" and row["children"] == "2"
    assert row["first_fill_s"] == "1.500" and row["last_fill_s"] == "2.250" and row["fees"] == "3.250615"
