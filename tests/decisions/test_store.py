"""The decision store on both backends: rules, hash chain, tampering, concurrency, crashes.

Every test runs on SQLite and on a real PostgreSQL server (`decisions_url` is parametrised).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from multiprocessing import get_context
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from warehouse.decisions import DecisionRequest, DecisionStore, InvalidDecision, Published

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = Published("v1", 0.31, 587, 0.22, "refuse",
                      [{"reason_code": "credit_burden", "reason_text": "High credit burden",
                        "points": -14}])
WHY = "Income verified on payslips since the application was scored."


@pytest.fixture
def store(decisions_url: str):
    s = DecisionStore(decisions_url)
    yield s
    s.close()


def issue(store: DecisionStore, client: int, actor: str = "alice", **kw):
    return store.append(client, DecisionRequest("issued", actor, **kw), PUBLISHED)


def test_entries_chain_and_history_oldest_first(store: DecisionStore) -> None:
    first = issue(store, 10)
    issue(store, 11)
    override = store.append(10, DecisionRequest("overridden", "alice", decision="grant",
                                                comment=WHY,
                                                what_if_edits={"credit_amount": 90000}),
                            PUBLISHED)
    assert first["prev_hash"] == "0" * 64 and first["decision"] == "refuse"
    assert override["entry_id"] == 3 and override["decision"] == "grant"
    assert override["what_if_edits"] == {"credit_amount": 90000}
    assert override["created_at"].endswith("+00:00")
    history = store.history(10)
    assert [e["kind"] for e in history] == ["issued", "overridden"]
    assert history[1]["prev_hash"] == store.history(11)[0]["entry_hash"]
    assert history[0]["reasons"] == PUBLISHED.reasons
    result = store.verify()
    assert result.valid and result.entries == 3 and result.head_hash == override["entry_hash"]


@pytest.mark.parametrize("request_, message", [
    (DecisionRequest("overridden", "alice", decision="grant"), "justification"),
    (DecisionRequest("overridden", "alice", decision="grant", comment="ok fine"), "sentence"),
    (DecisionRequest("overridden", "alice", comment=WHY), "needs the decision"),
    (DecisionRequest("issued", "alice", decision="grant"), "use kind 'overridden'"),
    (DecisionRequest("contested", "client", comment=WHY), "no decision yet"),
    (DecisionRequest("reviewed", "bob", comment=WHY), "no decision yet"),
    (DecisionRequest("confirmed", "client"), "only contest"),
    (DecisionRequest("issued", "alice", what_if_edits={"days_birth": 1}), "'days_birth'"),
])
def test_invalid_requests_are_refused_and_write_nothing(store: DecisionStore, request_,
                                                        message: str) -> None:
    with pytest.raises(InvalidDecision, match=message):
        store.append(7, request_, PUBLISHED)
    assert store.entries() == []


def test_review_needs_an_open_contest_and_another_advisor(store: DecisionStore) -> None:
    issue(store, 5, actor="alice")
    with pytest.raises(InvalidDecision, match="nothing to review"):
        store.append(5, DecisionRequest("reviewed", "bob", comment=WHY), PUBLISHED)
    contest = store.append(5, DecisionRequest("contested", "client",
                                              comment="I repaid my previous loan early."),
                           PUBLISHED)
    assert [r["contested_entry_id"] for r in store.reviews("open")] == [contest["entry_id"]]
    with pytest.raises(InvalidDecision, match="four-eyes"):
        store.append(5, DecisionRequest("reviewed", "alice", comment=WHY), PUBLISHED)
    review = store.append(5, DecisionRequest("reviewed", "bob", decision="grant", comment=WHY),
                          PUBLISHED)
    assert review["decision"] == "grant"
    assert store.reviews("open") == []
    closed = store.reviews("closed")
    assert closed[0]["reviewed_entry_id"] == review["entry_id"]
    assert closed[0]["decided_by"] == "alice"


def _drop_guards(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("drop trigger decisions_no_update")
            conn.exec_driver_sql("drop trigger decisions_no_delete")
        else:
            conn.exec_driver_sql("drop trigger decisions_no_change on decisions")
    engine.dispose()


def _tamper(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def test_triggers_refuse_update_and_delete(store: DecisionStore, decisions_url: str) -> None:
    issue(store, 1)
    for sql in ("update decisions set decision = 'grant'", "delete from decisions"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            _tamper(decisions_url, sql)
    assert store.verify().valid


@pytest.mark.parametrize("sql, broken", [
    ("update decisions set decision = 'grant' where entry_id = 2", 2),
    ("update decisions set comment = 'edited' where entry_id = 3", 3),
    ("delete from decisions where entry_id = 2", 2),
    ("delete from decisions where entry_id = 5", None),    # the head: see below
])
def test_verify_names_the_first_tampered_entry(store: DecisionStore, decisions_url: str,
                                               sql: str, broken: int | None, monkeypatch,
                                               capsys) -> None:
    for client in (1, 2, 3, 4):
        issue(store, client)
    store.append(3, DecisionRequest("overridden", "bob", decision="grant", comment=WHY),
                 PUBLISHED)
    _drop_guards(decisions_url)
    _tamper(decisions_url, sql)
    result = store.verify()
    if broken is None:
        # deleting the newest entries leaves a valid shorter chain: the head hash moved,
        # which is why the refresh records the head it copied
        assert result.valid and result.entries == 4
    else:
        assert not result.valid and result.broken_entry == broken
        proc = _pad(["decisions", "verify"], decisions_url, monkeypatch, capsys)
        assert proc.returncode == 1 and f"entry {broken}" in proc.stderr


def _pad(args: list[str], url: str, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> subprocess.CompletedProcess:
    """`pad …` in this process (the command's own entry point; spares a 3 s start-up)."""
    from flows.cli import main

    monkeypatch.setenv("PAD_DECISIONS_URL", url)
    capsys.readouterr()
    code = main(args)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def test_verify_and_export_cli(store: DecisionStore, decisions_url: str, tmp_path: Path,
                               monkeypatch, capsys) -> None:
    issue(store, 1)
    issue(store, 2)
    proc = _pad(["decisions", "verify"], decisions_url, monkeypatch, capsys)
    assert proc.returncode == 0 and "valid: 2 entries" in proc.stdout
    out = tmp_path / "log.parquet"
    proc = _pad(["decisions", "export", "--out", str(out)], decisions_url, monkeypatch,
                capsys)
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    assert table.column("entry_id").to_pylist() == [1, 2]
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    proc = _pad(["decisions", "export", "--out", str(tmp_path / "log.csv")], decisions_url,
                monkeypatch, capsys)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def _writer(url: str, worker: int, count: int) -> None:
    store = DecisionStore(url)
    for i in range(count):
        store.append(worker * 1000 + i, DecisionRequest("issued", f"w{worker}"), PUBLISHED)
    store.close()


def test_concurrent_writer_processes_keep_one_chain(store: DecisionStore,
                                                    decisions_url: str) -> None:
    store.ensure_schema()
    ctx = get_context("fork")   # children build their own engines
    workers = [ctx.Process(target=_writer, args=(decisions_url, w, 40)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(120)
        assert p.exitcode == 0
    result = store.verify()
    assert result.valid and result.entries == 160
    assert len({e["sk_id_curr"] for e in store.entries()}) == 160


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from warehouse.decisions.store import DecisionStore, decisions
    store = DecisionStore(sys.argv[1])
    with store._writing() as conn:
        conn.execute(decisions.insert().values(
            entry_id=99, sk_id_curr=1, kind='issued', decision='grant', model_version='v',
            probability_default=0.1, score=1, threshold=0.2, reasons='[]', actor='x',
            created_at='2026-01-01T00:00:00+00:00', prev_hash='0', entry_hash='bogus'))
        print('inside', flush=True)
        time.sleep(120)
""")


def test_writer_killed_mid_transaction_leaves_a_valid_log(store: DecisionStore,
                                                          decisions_url: str) -> None:
    issue(store, 1)
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, decisions_url],
                             env={**os.environ, "PYTHONPATH": str(REPO)},
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "inside"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    issue(store, 2)                     # the killed writer's lock was released
    result = store.verify()
    assert result.valid and result.entries == 2


def test_log_survives_a_restart(decisions_url: str, request: pytest.FixtureRequest) -> None:
    first = DecisionStore(decisions_url)
    head = issue(first, 1)["entry_hash"]
    first.close()
    if decisions_url.startswith("postgresql"):
        server = request.getfixturevalue("pg_server")
        server.stop("fast")
        server.start()
    second = DecisionStore(decisions_url)
    assert second.verify().head_hash == head
    assert issue(second, 2)["prev_hash"] == head
    second.close()


def test_read_only_store_never_creates_or_writes(decisions_url: str, tmp_path: Path) -> None:
    reader = DecisionStore(decisions_url, read_only=True)
    assert reader.entries() == [] and reader.verify().valid
    with pytest.raises(PermissionError):
        issue(reader, 1)
    assert not reader.exists()
    reader.close()
    if decisions_url.startswith("sqlite"):
        assert not (tmp_path / "decisions.sqlite").exists()


def test_verify_detects_newest_entries_removed_since_the_published_copy(
        store: DecisionStore, decisions_url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    import duckdb

    from warehouse.decisions.export import log_table

    for client in (1, 2, 3):
        issue(store, client)
    home = tmp_path / "home"
    home.mkdir()
    con = duckdb.connect(str(home / "warehouse.duckdb"))    # what a refresh published
    con.execute("create schema serving")
    con.register("log", log_table(store.raw_entries()))
    con.execute("create table serving.decisions as select * from log")
    con.close()
    monkeypatch.setenv("PAD_HOME", str(home))
    assert _pad(["decisions", "verify"], decisions_url, monkeypatch, capsys).returncode == 0
    _drop_guards(decisions_url)
    _tamper(decisions_url, "delete from decisions where entry_id = 3")
    assert store.verify().valid                        # the chain alone cannot tell
    proc = _pad(["decisions", "verify"], decisions_url, monkeypatch, capsys)
    assert proc.returncode == 1 and "broken at entry 3" in proc.stderr
    assert "published warehouse ends at entry 3" in proc.stderr
