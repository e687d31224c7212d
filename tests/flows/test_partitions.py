"""The partitioned refresh (issue 15): the bucket hash, the equality proof (one machine, four
buckets in this process, four buckets on a local Dask cluster publish the same serving tables)
and a bucket that keeps failing (retried, then nothing published)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.partitions import BUCKET_RETRIES
from flows.refresh import run_refresh
from warehouse import buckets
from warehouse.config import pad_paths

FAST_TRAINING = {"PAD_ML_FOLDS": "2", "PAD_ML_MAX_TREES": "30"}
# what differs between any two refreshes of the same inputs: the run's own time stamps and ids
RUN_TABLES = {"refresh_runs", "alerts"}
RUN_COLUMNS = {"scored_at", "computed_at", "refresh_run_id", "champion_since"}
# per-client tables: bit for bit. The others are population statistics (PSI, fairness, bins),
# floating-point sums whose last bits follow the order rows are added in, which no two runs
# (partitioned or not: DuckDB aggregates in parallel) promise: equal to 1e-9 relative.
PER_CLIENT = {"clients", "client_scores", "client_drivers", "client_families", "client_reasons",
              "client_feature_values", "client_recourse", "similar_clients"}


def test_bucket_hash_is_the_same_in_sql_and_python() -> None:
    ids = [0, 1, 2, 100002, 456255, 2**31 - 1, 2**32, 2**40 + 7, 2**62, -1, -100002]
    con = duckdb.connect()
    for partitions in (1, 2, 3, 4, 7, 8, 64):
        in_sql = con.execute(f"select {buckets.bucket_sql('x', partitions)} from "
                             "unnest(?::bigint[]) t(x)", [ids]).fetchall()
        assert [r[0] for r in in_sql] == [buckets.bucket_of(x, partitions) for x in ids]
    # the documented formula, by hand: (100002 * 2654435761) mod 2^32 = 2726209538
    assert (100002 * 2654435761) % 2**32 == 2726209538
    assert buckets.bucket_of(100002, 4) == 2726209538 % 4 == 2


def _serving(db: Path) -> dict[str, list[tuple]]:
    """Every serving table and view (sorted rows), without the run's own time stamps."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'serving' union "
            "select view_name from duckdb_views() where schema_name = 'serving'").fetchall()]
        out = {}
        for name in sorted(set(names) - RUN_TABLES):
            columns = [r[0] for r in con.execute(f"describe serving.{name}").fetchall()
                       if r[0] not in RUN_COLUMNS]
            select = ", ".join(f'"{c}"' for c in columns)
            out[name] = con.execute(f"select {select} from serving.{name} order by all"
                                    ).fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def one_machine(tmp_path_factory, small_raw: Path, prefect_server) -> Path:
    """PAD_HOME after the one-machine refresh, which trains the champion all three use."""
    home = tmp_path_factory.mktemp("one-machine")
    with pytest.MonkeyPatch.context() as env:
        for key, value in FAST_TRAINING.items():
            env.setenv(key, value)
        assert run_refresh(raw=small_raw, retrain=True, paths=pad_paths(home)) == 0
    return home


def _champion_only(one_machine: Path, home: Path) -> Path:
    """A PAD_HOME holding only the one-machine run's models/: it scores with that champion."""
    shutil.copytree(one_machine / "models", home / "models")
    return home


@pytest.mark.slow
@pytest.mark.dbt
def test_partitioned_refresh_publishes_the_one_machine_serving_tables(
        one_machine: Path, small_raw: Path, tmp_path: Path, monkeypatch) -> None:
    parses = _count_dbt_parses(monkeypatch)
    local = _champion_only(one_machine, tmp_path / "local")
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(local), partitions=4) == 0
    # the four buckets built in this process share one parse (the serving build parses too)
    assert len(parses) <= 2
    on_dask = _champion_only(one_machine, tmp_path / "dask")
    assert run_refresh(raw=small_raw, retrain=False, paths=pad_paths(on_dask), partitions=4,
                       dask="local", workers=2) == 0

    expected = _serving(one_machine / "warehouse.duckdb")
    assert len(expected["client_scores"]) == 1500 and len(expected["client_reasons"]) > 1500
    for home in (local, on_dask):
        got = _serving(home / "warehouse.duckdb")
        assert got.keys() == expected.keys()
        for name in expected:
            assert _same(got[name], expected[name], exact=name in PER_CLIENT), \
                f"{home.name}: serving.{name} differs"
        [run] = [json.loads(p.read_text()) for p in (home / "runs").glob("*.json")]
        assert run["status"] == "success" and run["retrained"] is False
        assert not list((home / "build").iterdir())  # bucket files removed after the publish


def _count_dbt_parses(monkeypatch) -> list[int]:
    """Every parse of the dbt project in this process from now on (dbt's own parse function,
    wrapped)."""
    import dbt.cli.requires

    parses: list[int] = []
    real = dbt.cli.requires.parse_manifest

    def counted(*args, **kwargs):
        parses.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dbt.cli.requires, "parse_manifest", counted)
    return parses


def _same(got: list[tuple], expected: list[tuple], exact: bool) -> bool:
    if exact or got == expected:
        return got == expected
    return len(got) == len(expected) and all(
        g == pytest.approx(e, rel=1e-9) if isinstance(e, float) else g == e
        for row_g, row_e in zip(got, expected, strict=True)
        for g, e in zip(row_g, row_e, strict=True))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.dbt
def test_a_bucket_that_keeps_failing_is_retried_then_nothing_is_published(
        one_machine: Path, small_raw: Path, tmp_path: Path, monkeypatch) -> None:
    home = shutil.copytree(one_machine, tmp_path / "home",
                           ignore=shutil.ignore_patterns("refresh.lock"))
    raw = shutil.copytree(small_raw, tmp_path / "raw")  # new inputs: a real rebuild starts
    lines = (raw / "application_test.csv").read_bytes().split(b"\r\n")
    (raw / "application_test.csv").write_bytes(b"\r\n".join(lines[:-2] + [b""]))
    published = _digest(home / "warehouse.duckdb")

    attempts: list[int] = []
    real = buckets.create_bucket_db

    def corrupt_bucket_two(parts: Path, bucket: int) -> Path:
        if bucket == 2:  # its bureau file is overwritten with garbage before every attempt
            attempts.append(bucket)
            for file in (parts / "raw" / "bureau" / "_bucket=2").glob("*.parquet"):
                file.write_bytes(b"not a parquet file" * 100)
        return real(parts, bucket)

    monkeypatch.setattr(buckets, "create_bucket_db", corrupt_bucket_two)
    with pytest.raises(Exception, match="parquet|Parquet"):
        run_refresh(raw=raw, retrain=False, paths=pad_paths(home), partitions=4)

    assert len(attempts) == 1 + BUCKET_RETRIES
    assert _digest(home / "warehouse.duckdb") == published
    runs = [json.loads(p.read_text()) for p in (home / "runs").glob("*.json")]
    [failed] = [r for r in runs if r["status"] == "failed"]
    assert failed["published"] is False
    assert not list((home / "build").iterdir())  # build file and bucket files removed


def _worker_profiler() -> dict[str, bool]:
    """Run in a Dask worker: is its statistical profiler configured, is it running?"""
    import dask.config
    from distributed import get_worker

    return {"configured": dask.config.get("distributed.worker.profile.enabled"),
            "running": "profile" in get_worker().periodic_callbacks}


@pytest.mark.slow
def test_local_dask_workers_run_without_the_statistical_profiler(prefect_server) -> None:
    """The `--dask local` workers, started by the refresh's own task runner, never sample
    their threads (sys._current_frames every 10 ms): on CPython 3.11 that sampling can hang a
    worker for good in a bucket's dbt build (flows.config.DASK_SETTINGS)."""
    from prefect import flow, task

    from flows.partitions import dask_task_runner

    probe = task(_worker_profiler)

    @flow(task_runner=dask_task_runner("local", 1))
    def probe_the_worker() -> dict[str, bool]:
        return probe.submit().result()

    assert probe_the_worker() == {"configured": False, "running": False}


def test_dask_address_and_workers_come_from_the_option_then_the_environment() -> None:
    from flows.config import dask_address, dask_workers

    assert dask_address(None, {"PAD_DASK_ADDRESS": "tcp://s:8786"}) is None  # no --dask
    assert dask_address("", {"PAD_DASK_ADDRESS": "tcp://s:8786"}) == "tcp://s:8786"
    assert dask_address("", {}) == "local"
    assert dask_address("tcp://t:1", {"PAD_DASK_ADDRESS": "tcp://s:8786"}) == "tcp://t:1"
    assert dask_workers({"PAD_DASK_WORKERS": "3"}) == 3


@pytest.mark.parametrize("argv", [["refresh", "--partitions", "0"],
                                  ["bench", "--steps", "scale", "--workers", "0"]])
def test_bad_partition_or_worker_counts_exit_2_with_one_line(argv, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "flows.cli", *argv], check=False,
                          capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "PAD_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "at least 1" in done.stderr
