"""Opening the journal (issue 18, cold start): a new journal's tables are written in one transaction, and
the sim's journal, which does not outlive its process, is not fsynced."""

from __future__ import annotations

import sqlite3

from connector.sim.connector import SimConnector
from execution.journal import Journal
from execution.runtime import Runtime


def _traced(monkeypatch) -> list[str]:
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    return statements


def test_a_new_journal_writes_its_tables_in_one_transaction(monkeypatch, tmp_path):
    statements = _traced(monkeypatch)
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.close()
    words = [s.strip().rstrip(";").upper() for s in statements]
    creates = [i for i, s in enumerate(words) if s.startswith("CREATE")]
    begins = [i for i, s in enumerate(words) if s == "BEGIN"]
    commits = [i for i, s in enumerate(words) if s == "COMMIT"]
    assert len(creates) >= 8
    assert begins and begins[0] < creates[0]
    assert not [i for i in begins + commits if creates[0] < i < creates[-1]]  # no transaction ends among them
    assert [i for i in commits if i > creates[-1]]
    reopened = Journal(tmp_path / "journal.sqlite3")  # and it is a journal: it opens again, schema current
    assert reopened.runs() == []
    reopened.close()


def test_the_sims_journal_is_not_fsynced_and_a_journal_that_outlives_the_process_is(tmp_path):
    sim = Runtime({"sim": SimConnector()})
    kept = Runtime({"sim": SimConnector()}, journal_path=tmp_path / "journal.sqlite3")
    try:
        assert not sim.journal.durable and kept.journal.durable
        assert sim.journal._db.execute("PRAGMA synchronous").fetchone() == (0,)  # OFF
        assert kept.journal._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert sim.journal._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        sim.journal.close()
        kept.journal.close()
