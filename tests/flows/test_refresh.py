"""The refresh flow: publish is atomic, failures and kills leave the published warehouse alone."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.publish import new_build_path, publish, published_model, refresh_lock
from flows.refresh import refresh_steps, run_refresh
from models_ml.registry import find_champion
from warehouse import dbt_runner
from warehouse.config import pad_paths
from warehouse.dbt_runner import docs_of_published
from warehouse.errors import RunFailure

pytestmark = [pytest.mark.slow, pytest.mark.dbt]
FAST_TRAINING = {"PAD_ML_FOLDS": "2", "PAD_ML_MAX_TREES": "30"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def records(home: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (home / "runs").glob("*.json")),
                  key=lambda r: r["started_at"] + r["run_id"])


DBT_CALLS: list[tuple[str, bool]] = []  # (dbt command, given a parsed project) of `refreshed`


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory, small_raw: Path, prefect_server) -> Path:
    """PAD_HOME after one successful refresh of the small portfolio (its dbt calls recorded)."""
    home = tmp_path_factory.mktemp("pad-home")
    invoke = dbt_runner._invoke

    def recorded(args, db_path, **kwargs):
        DBT_CALLS.append((" ".join(args), kwargs.get("manifest") is not None))
        return invoke(args, db_path, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dbt_runner, "_invoke", recorded)
        assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    return home


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("refresh.lock"))
    return dst


def new_inputs(small_raw: Path, dst: Path) -> Path:
    """A copy of the raw files without the last pending client, so a real rebuild starts."""
    raw = shutil.copytree(small_raw, dst)
    lines = (raw / "application_test.csv").read_bytes().split(b"\r\n")
    (raw / "application_test.csv").write_bytes(b"\r\n".join(lines[:-2] + [b""]))
    return raw


def test_refresh_publishes_marts_and_records_the_run(refreshed: Path) -> None:
    con = duckdb.connect(str(refreshed / "warehouse.duckdb"), read_only=True)
    clients = con.execute("select count(*) from marts.client_features").fetchone()[0]
    apps = con.execute("select (select count(*) from raw.application_train) + "
                       "(select count(*) from raw.application_test)").fetchone()[0]
    con.close()
    assert clients == apps == 1500
    con = duckdb.connect(str(refreshed / "warehouse.duckdb"), read_only=True)
    scores = con.execute("select count(*), count(distinct model_version) "
                         "from serving.client_scores").fetchone()
    logged = con.execute("select status from serving.refresh_runs").fetchall()
    types = dict(con.execute("select column_name, column_type from (describe serving.refresh_runs)"
                             ).fetchall())
    con.close()
    assert scores == (1500, 1)
    assert logged == [("success",)]
    assert types["started_at"] == types["finished_at"] == "TIMESTAMP WITH TIME ZONE"
    [run] = records(refreshed)
    assert run["status"] == "success" and run["published"] is True
    assert run["retrained"] is True and run["model_version"]  # no champion yet: it trained
    assert run["clients"] == 1500 and run["rows_loaded"] > 100_000
    assert run["seconds_validate_load"] > 0 and run["seconds_publish"] is not None
    assert not list((refreshed / "build").glob("*")), "the private build file is gone"
    # the model that scored the published warehouse is the champion
    assert published_model(pad_paths(refreshed))["run_id"] == run["run_id"]
    assert published_model(pad_paths(refreshed))["model_version"] == run["model_version"] \
        == find_champion(refreshed / "models").version
    for moment in (run["started_at"], run["finished_at"]):
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0), moment


def test_every_step_of_the_flow_shows_its_time_in_the_published_run_log(refreshed: Path) -> None:
    """The step names live in the flow, the run record and the serving view: a step added to one
    and not the others would lose its time silently."""
    flow_steps = [step.name for step in refresh_steps()]
    [run] = records(refreshed)
    con = duckdb.connect(str(refreshed / "warehouse.duckdb"), read_only=True)
    shown = con.execute("select * from serving.refresh_runs").df().iloc[0]
    con.close()
    for step in flow_steps:
        assert f"seconds_{step}" in run, step
        assert f"seconds_{step}" in shown.index, step
        if run[f"seconds_{step}"] is not None:
            assert shown[f"seconds_{step}"] == pytest.approx(run[f"seconds_{step}"]), step
    ran = [step for step in flow_steps if run[f"seconds_{step}"] is not None]
    assert {"validate_load", "train", "publish"} <= set(ran), ran
    assert shown["seconds_total"] == pytest.approx(run["seconds_total"])


def test_a_refresh_parses_the_dbt_project_once_for_its_two_builds(refreshed: Path) -> None:
    """A full parse costs 2–4 s: the marts and serving builds share one."""
    builds = [(command, parsed) for command, parsed in DBT_CALLS if command.startswith("build")]
    assert builds == [("build --selector marts", True), ("build --selector serving", True)]
    assert [command for command, _ in DBT_CALLS].count("parse") == 1, DBT_CALLS


def refresh_in_a_new_process(raw: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A refresh with no parse kept in memory (as `pad refresh` or a scheduled run); returns
    what it wrote to dbt's log."""
    monkeypatch.setattr(dbt_runner, "_PARSED", {})
    log = home / "dbt" / "logs" / "dbt.log"
    log.unlink(missing_ok=True)
    assert run_refresh(raw=raw, retrain=False, paths=pad_paths(home)) == 0
    return log.read_text()


def test_the_next_refresh_of_a_home_reuses_dbts_saved_parse(
        refreshed: Path, small_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    # the copied home's build path is new to dbt: this refresh parses the whole project
    first = refresh_in_a_new_process(new_inputs(small_raw, tmp_path / "raw2"), home, monkeypatch)
    assert "Unable to do partial parsing because profile has changed" in first
    assert "skipping partial parsing" not in first
    second = refresh_in_a_new_process(small_raw, home, monkeypatch)
    assert "Nothing changed, skipping partial parsing." in second
    assert "Unable to do partial parsing" not in second
    assert records(home)[-1]["status"] == "success"


def test_a_build_left_open_in_the_process_fails_the_next_refresh_not_the_warehouse(
        refreshed: Path, small_raw: Path, tmp_path: Path) -> None:
    """duckdb.connect hands out the instance already open on a path: a connection left open on
    the last build (same name) would write the next build into the published warehouse."""
    home = copy_home(refreshed, tmp_path / "home")
    paths = pad_paths(home)
    build = new_build_path(paths)
    shutil.copy(paths.warehouse, build)
    leaked = duckdb.connect(str(build))
    os.replace(build, paths.warehouse)  # published while the connection stays open
    before = digest(paths.warehouse)
    try:
        with pytest.raises(RunFailure, match="still has an earlier build of that name open"):
            run_refresh(raw=new_inputs(small_raw, tmp_path / "raw2"), retrain=False, paths=paths)
    finally:
        leaked.close()
    assert digest(paths.warehouse) == before
    assert records(home)[-1]["status"] == "failed"
    assert not list(paths.build.glob("refresh-*"))


def test_docs_show_the_whole_lineage_of_the_published_warehouse(refreshed: Path,
                                                                tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    before = digest(home / "warehouse.duckdb")
    page = docs_of_published(pad_paths(home), tmp_path / "docs")
    assert page.is_file() and page.stat().st_size > 100_000
    manifest = json.loads((tmp_path / "docs" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "docs" / "catalog.json").read_text())
    exposed = {e["name"]: e["depends_on"]["nodes"] for e in manifest["exposures"].values()}
    assert {"dashboard", "lookup_api"} <= set(exposed), exposed
    assert all(any(".client_scores" in n for n in exposed[name])
               for name in ("dashboard", "lookup_api"))
    documented = {n.split(".")[-1] for n in catalog["nodes"]}
    assert {"client_features", "client_scores", "client_drivers"} <= documented
    assert digest(home / "warehouse.duckdb") == before  # dbt worked on a copy
    assert not list((home / "build").glob("*.duckdb"))


def test_unchanged_inputs_recompute_nothing(refreshed: Path, small_raw: Path, tmp_path: Path
                                            ) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    before = digest(home / "warehouse.duckdb")
    started = time.perf_counter()
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    assert time.perf_counter() - started < 30
    assert digest(home / "warehouse.duckdb") == before
    last = records(home)[-1]
    assert last["status"] == "success" and "unchanged" in last["message"]


def pad_refresh(home: Path, *args: str, env_extra: dict[str, str] | None = None,
                **popen: object) -> subprocess.Popen:
    """`pad refresh` as a user runs it, in its own process group, with fast training."""
    env = {**os.environ, "PAD_HOME": str(home), **FAST_TRAINING, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "refresh", *args], env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True, **popen)


def test_bad_input_is_one_line_without_traceback_and_publishes_nothing(
        refreshed: Path, small_raw: Path, tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    bad = shutil.copytree(small_raw, tmp_path / "bad")
    path = bad / "bureau.csv"
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[5].split(b",")
    fields[4] = b"yesterday"  # DAYS_CREDIT must be a number
    lines[5] = b",".join(fields)
    path.write_bytes(b"\r\n".join(lines))
    before = digest(home / "warehouse.duckdb")
    proc = pad_refresh(home, "--raw", str(bad), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 2, err
    assert "Traceback" not in out + err and "BadInput" not in out + err, err
    assert err.splitlines() == [
        "pad refresh: bureau.csv: line 6, column DAYS_CREDIT: 'yesterday' is not a number"]
    assert digest(home / "warehouse.duckdb") == before
    failed = records(home)[-1]
    assert failed["status"] == "failed" and "DAYS_CREDIT" in failed["message"]
    assert not list((home / "build").glob("refresh-*"))


def test_a_bad_setting_fails_the_run_before_its_first_step(
        refreshed: Path, small_raw: Path, tmp_path: Path) -> None:
    """A bad setting (here one the train task reads) is read before the load: one line, no
    traceback (Prefect's failure logs included), the run recorded as failed, the warehouse
    untouched. A bad input a task meets later: the tiny portfolio below."""
    home = copy_home(refreshed, tmp_path / "home")
    before = digest(home / "warehouse.duckdb")
    proc = pad_refresh(home, "--raw", str(small_raw), "--retrain", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True,
                       env_extra={"PAD_ML_FOLDS": "1"})
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 2, err
    assert "Traceback" not in out + err and "BadInput" not in out + err, err
    assert err == "pad refresh: environment variable PAD_ML_FOLDS='1' must be at least 2\n"
    assert digest(home / "warehouse.duckdb") == before
    failed = records(home)[-1]
    assert failed["status"] == "failed" and "PAD_ML_FOLDS" in failed["message"]
    assert not any((home / "build").glob("refresh-*"))


def test_a_retrain_on_a_tiny_portfolio_is_one_line_without_traceback(
        refreshed: Path, tmp_path: Path) -> None:
    """30 clients: training refuses them (BadInput from models_ml) — exit 2, the published
    warehouse and its champion untouched, the run recorded as failed, no traceback anywhere."""
    from warehouse.raw.generate import generate_portfolio

    home = copy_home(refreshed, tmp_path / "home")
    tiny = tmp_path / "tiny"
    generate_portfolio(clients=30, out_dir=tiny, seed=5)
    before, champion = digest(home / "warehouse.duckdb"), find_champion(home / "models").version
    proc = pad_refresh(home, "--raw", str(tiny), "--retrain", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 2, err
    assert "Traceback" not in out + err and "BadInput" not in out + err, err
    *progress, last = err.splitlines()
    assert last.startswith("pad refresh: training needs at least"), err
    assert all(line.startswith("refresh: ") for line in progress), err
    assert digest(home / "warehouse.duckdb") == before
    assert find_champion(home / "models").version == champion
    failed = records(home)[-1]
    assert failed["status"] == "failed" and failed["message"] == last.removeprefix(
        "pad refresh: ")


def test_sigterm_after_training_records_the_run_failed_and_keeps_the_champion(
        refreshed: Path, small_raw: Path, tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    before = digest(home / "warehouse.duckdb")
    champion = find_champion(home / "models").version
    versions = {p.name for p in (home / "models").iterdir()}
    proc = pad_refresh(home, "--raw", str(small_raw), "--retrain", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 400
    while {p.name for p in (home / "models").iterdir() if not p.name.startswith(".")} \
            == versions:
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # the new version is registered: scoring has started
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.splitlines()[-1] == "pad refresh: stopped by SIGTERM", err
    run = records(home)[-1]
    assert run["status"] == "failed" and run["message"] == "stopped by SIGTERM", run
    assert run["finished_at"] and datetime.fromisoformat(run["finished_at"]).utcoffset() \
        == timedelta(0)
    # registered, not promoted: the registry still agrees with the published warehouse
    assert digest(home / "warehouse.duckdb") == before
    assert find_champion(home / "models").version == champion
    assert len({p.name for p in (home / "models").iterdir()} - versions) == 1
    assert not list((home / "build").glob("refresh-*"))


def test_a_second_refresh_is_refused_while_one_runs(tmp_path: Path, small_raw: Path) -> None:
    paths = pad_paths(tmp_path / "home")
    with refresh_lock(paths), pytest.raises(RunFailure, match="another refresh is running"):
        run_refresh(raw=small_raw, retrain=False, paths=paths)


def test_readers_keep_their_snapshot_across_a_publish(tmp_path: Path) -> None:
    paths = pad_paths(tmp_path / "home")
    paths.home.mkdir()
    for version, target in [(1, paths.warehouse), (2, tmp_path / "next.duckdb")]:
        con = duckdb.connect(str(target))
        con.execute(f"create table t as select {version} as v")
        con.close()
    reader = duckdb.connect(str(paths.warehouse), read_only=True)
    assert reader.execute("select v from t").fetchone()[0] == 1
    publish(tmp_path / "next.duckdb", paths)  # must not block on the open reader
    assert reader.execute("select v from t").fetchone()[0] == 1  # old snapshot, whole
    # a new reader (another process: DuckDB caches open databases per process) sees the new one
    probe = ("import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True)"
             ".execute('select v from t').fetchone()[0])")
    out = subprocess.run([sys.executable, "-c", probe, str(paths.warehouse)], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == "2"
    reader.close()
    fresh = duckdb.connect(str(paths.warehouse), read_only=True)  # after closing, here too
    assert fresh.execute("select v from t").fetchone()[0] == 2
    fresh.close()


def test_a_killed_refresh_leaves_the_previous_warehouse_readable(refreshed: Path,
                                                                 small_raw: Path,
                                                                 tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    raw = new_inputs(small_raw, tmp_path / "raw2")
    before = digest(home / "warehouse.duckdb")
    env = {**os.environ, "PAD_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "refresh", "--raw", str(raw)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list((home / "build").glob("refresh-*.duckdb")):
        assert proc.poll() is None, "the refresh ended before it could be killed"
        time.sleep(0.2)
    time.sleep(1.0)  # well inside the load
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert digest(home / "warehouse.duckdb") == before
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.client_features").fetchone()[0] == 1500
    con.close()
    killed = records(home)[-1]
    assert killed["status"] == "running"  # it could not say anything itself
    assert run_refresh(raw=raw, retrain=False, paths=pad_paths(home)) == 0
    # the next run (holding the lock, so sure it is dead) records it as failed
    after = {r["run_id"]: r for r in records(home)}[killed["run_id"]]
    assert after["status"] == "failed" and after["message"].startswith("killed before")
    assert not list((home / "build").glob("*"))
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.client_features").fetchone()[0] == 1499
    con.close()


# --- the decision log at each refresh (CONTRACTS §7) -------------------------------------
def _decide(home: Path, clients: list[int]) -> list[dict]:
    """Advisor decisions on the published scores, written through the store (as the API does)."""
    from dashboard.decision_records import record_decision
    from dashboard.lookup import Lookup
    from warehouse.decisions import DecisionRequest, DecisionStore

    lookup = Lookup(home / "warehouse.duckdb")
    store = DecisionStore.for_paths(pad_paths(home))
    try:
        return [record_decision(lookup, store, c, DecisionRequest("issued", "alice"))
                for c in clients]
    finally:
        store.close()
        lookup.close()


def _published_log(home: Path) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select entry_id, entry_hash, kind, created_at "
                           "from serving.decisions order by entry_id").fetchall()
    finally:
        con.close()


def _pending_ids(home: Path, n: int) -> list[int]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute("select sk_id_curr from serving.clients "
                                          f"order by sk_id_curr limit {n}").fetchall()]
    finally:
        con.close()


def test_unchanged_refresh_copies_a_changed_decision_log_only(refreshed: Path,
                                                              small_raw: Path,
                                                              tmp_path: Path,
                                                              decisions_url: str,
                                                              monkeypatch) -> None:
    """On both backends (PAD_DECISIONS_URL: SQLite file or a real PostgreSQL database)."""
    monkeypatch.setenv("PAD_DECISIONS_URL", decisions_url)
    home = copy_home(refreshed, tmp_path / "home")
    assert _published_log(home) == []
    written = _decide(home, _pending_ids(home, 3))
    started = time.perf_counter()
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    assert time.perf_counter() - started < 30
    copied = _published_log(home)
    assert [(r[0], r[1]) for r in copied] == [(e["entry_id"], e["entry_hash"]) for e in written]
    assert copied[0][3].utcoffset() is not None          # timestamptz
    last = records(home)[-1]
    assert last["published"] is True and "decision log copied" in last["message"]
    before = digest(home / "warehouse.duckdb")
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    assert digest(home / "warehouse.duckdb") == before      # log unchanged: nothing written
    assert not list((home / "alerts").glob("*decision_chain*"))


def test_a_broken_chain_is_copied_and_raises_an_alert(refreshed: Path, small_raw: Path,
                                                      tmp_path: Path) -> None:
    import sqlite3

    home = copy_home(refreshed, tmp_path / "home")
    _decide(home, _pending_ids(home, 3))
    con = sqlite3.connect(home / "decisions.sqlite")
    con.execute("drop trigger decisions_no_update")
    con.execute("update decisions set decision = 'grant', kind = 'confirmed' where entry_id = 2")
    con.commit()
    con.close()
    before = (home / "decisions.sqlite").read_bytes()
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    assert [r[2] for r in _published_log(home)] == ["issued", "confirmed", "issued"]
    [alert] = [json.loads(p.read_text()) for p in (home / "alerts").glob("*decision_chain*")]
    assert alert["severity"] == "critical" and "entry 2" in alert["message"]
    assert (home / "decisions.sqlite").read_bytes() == before   # read-only: not a byte changed


WRITER = """
import pathlib, sys, time
from dashboard.decision_records import record_decision
from dashboard.lookup import Lookup
from warehouse.config import pad_paths
from warehouse.decisions import DecisionRequest, DecisionStore
paths = pad_paths(sys.argv[1])
lookup, store = Lookup(paths.warehouse), DecisionStore.for_paths(paths)
ids = [int(x) for x in sys.argv[2].split(",")]
stop = pathlib.Path(sys.argv[3])
i = 0
while not stop.exists():
    e = record_decision(lookup, store, ids[i % len(ids)], DecisionRequest("issued", "w"))
    print(e["entry_id"], e["entry_hash"], flush=True)
    i += 1
    time.sleep(0.02)
"""


def test_a_full_refresh_during_writes_changes_nothing_in_the_log(refreshed: Path,
                                                                 small_raw: Path,
                                                                 tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    raw = new_inputs(small_raw, tmp_path / "raw2")
    ids = ",".join(str(i) for i in _pending_ids(home, 20))
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home), ids, str(stop)],
                              env={**os.environ, "PYTHONPATH": str(Path.cwd())},
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline()
    try:
        assert run_refresh(raw=raw, retrain=False, paths=pad_paths(home)) == 0
    finally:
        stop.touch()
        out, _ = writer.communicate(60)
    from warehouse.decisions import DecisionStore

    store = DecisionStore.for_paths(pad_paths(home), read_only=True)
    logged = store.raw_entries()
    store.close()
    acknowledged = [line.split() for line in out.splitlines() if line.strip()]
    # every write the writer saw acknowledged is in the log, unchanged, and nothing else
    # (the first acknowledged line was read before the refresh: it is not in `out`)
    assert [[str(e["entry_id"]), e["entry_hash"]] for e in logged][1:] == acknowledged
    assert len(logged) > 2
    copied = _published_log(home)
    assert 0 < len(copied) <= len(logged)
    assert [(r[0], r[1]) for r in copied] == [(e["entry_id"], e["entry_hash"])
                                              for e in logged[:len(copied)]]
    assert not list((home / "alerts").glob("*decision_chain*"))
