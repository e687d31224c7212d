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
from pathlib import Path

import duckdb
import pytest

from flows.publish import publish, refresh_lock
from flows.refresh import run_refresh
from warehouse.config import pad_paths
from warehouse.dbt_runner import docs_of_published
from warehouse.errors import BadInput, RunFailure

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def records(home: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (home / "runs").glob("*.json")),
                  key=lambda r: r["started_at"] + r["run_id"])


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory, small_raw: Path, prefect_server) -> Path:
    """PAD_HOME after one successful refresh of the small portfolio."""
    home = tmp_path_factory.mktemp("pad-home")
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(home)) == 0
    return home


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("refresh.lock"))
    return dst


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
    con.close()
    assert scores == (1500, 1)
    assert logged == [("success",)]
    [run] = records(refreshed)
    assert run["status"] == "success" and run["published"] is True
    assert run["retrained"] is True and run["model_version"]  # no champion yet: it trained
    assert run["clients"] == 1500 and run["rows_loaded"] > 100_000
    assert run["seconds_validate_load"] > 0 and run["seconds_publish"] is not None
    assert not list((refreshed / "build").glob("*")), "the private build file is gone"


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
    assert all(any(".client_scores" in n for n in nodes) for nodes in exposed.values())
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


def test_bad_input_leaves_the_published_warehouse_untouched(refreshed: Path, small_raw: Path,
                                                            tmp_path: Path) -> None:
    home = copy_home(refreshed, tmp_path / "home")
    bad = shutil.copytree(small_raw, tmp_path / "bad")
    path = bad / "bureau.csv"
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[5].split(b",")
    fields[4] = b"yesterday"  # DAYS_CREDIT must be a number
    lines[5] = b",".join(fields)
    path.write_bytes(b"\r\n".join(lines))
    before = digest(home / "warehouse.duckdb")
    with pytest.raises(BadInput, match=r"bureau\.csv: line 6, column DAYS_CREDIT"):
        run_refresh(raw=bad, retrain=False, paths=pad_paths(home))
    assert digest(home / "warehouse.duckdb") == before
    failed = records(home)[-1]
    assert failed["status"] == "failed" and "DAYS_CREDIT" in failed["message"]
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
    raw = shutil.copytree(small_raw, tmp_path / "raw2")
    lines = (raw / "application_test.csv").read_bytes().split(b"\r\n")
    # new inputs (the last pending client removed), so a real rebuild starts
    (raw / "application_test.csv").write_bytes(b"\r\n".join(lines[:-2] + [b""]))
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
    assert records(home)[-1]["status"] == "running"  # the killed run says what happened
    assert run_refresh(raw=raw, retrain=False, paths=pad_paths(home)) == 0
    assert not list((home / "build").glob("*"))
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.client_features").fetchone()[0] == 1499
    con.close()
