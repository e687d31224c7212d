"""`pad bench`: steps run in child processes and come back as one table."""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.bench import Measurement, median_run, render_table, run_bench
from flows.cli import main


def test_bench_prints_one_table_with_medians_rss_and_baseline(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    assert run_bench(clients=200, steps=["sample", "load", "dbt"], home=str(tmp_path), seed=3,
                     repeat=1, profile=4) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| step | rows | seconds |")
    sample, load = rows[1].split("|"), rows[2].split("|")
    assert sample[1].strip() == "sample" and load[1].strip() == "load"
    assert int(load[2].strip().replace(",", "")) > 20_000  # every raw row loaded
    assert float(load[5].strip().replace(",", "")) > 50  # a child's peak RSS in MiB
    assert float(load[7].strip()) > 0  # ratio to the plain DuckDB read
    # --profile: the load's four slowest phases, slowest first, with the baseline's CPU time
    profile = out[out.index("load: the 4 slowest"):].splitlines()
    assert "s CPU; baseline" in profile[0]
    phases = [line.split("|") for line in profile[3:7]]
    assert any(p[1].strip().startswith("typed read ") for p in phases)
    seconds = [float(p[2]) for p in phases]
    assert seconds == sorted(seconds, reverse=True)
    # the marts build: every client, its nodes profiled; dbt's own files in the bench's home
    dbt = rows[3].split("|")
    assert dbt[1].strip() == "dbt" and int(dbt[2].strip().replace(",", "")) == 200
    assert "dbt: the 4 slowest of" in out and "model.pad_warehouse." in out
    assert (tmp_path / "dbt" / "target" / "run_results.json").is_file()


def test_unknown_step_is_bad_usage(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--steps", "sample,teleport"]) == 2
    assert "unknown bench step(s) teleport" in capsys.readouterr().err


def test_table_shows_notes_and_no_rate_for_zero_time() -> None:
    table = render_table([Measurement("quality", 412, 0.0, 250.0, note="relative 0.9")], 3000, 1)
    assert "| quality | 412 | 0.00 | — | 250 | — | — | relative 0.9 |" in table


def test_note_comes_from_the_median_run_by_rank_else_by_seconds() -> None:
    runs = [Measurement("api", 10, 1.0, 9.0, note="p99 80", rank=80.0),
            Measurement("api", 10, 3.0, 9.0, note="p99 40", rank=40.0),
            Measurement("api", 10, 2.0, 9.0, note="p99 55", rank=55.0)]
    assert median_run(runs).note == "p99 55"
    timed = [Measurement("dbt", 1, s, 1.0, note=f"{s}") for s in (5.0, 1.0, 3.0, 9.0)]
    assert median_run(timed).note == "3.0"  # the lower middle of an even count


def test_a_database_copy_leaves_a_killed_runs_wal_behind(tmp_path: Path) -> None:
    """A killed bench leaves bench-dbt.duckdb.wal; the next run's fresh copy must not replay it."""
    import duckdb

    from warehouse.database_files import copy_database

    source, target = tmp_path / "loaded.duckdb", tmp_path / "copy.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    copy_database(source, target)
    with duckdb.connect(str(target)) as con:  # a run that dies before its checkpoint
        con.execute("SET wal_autocheckpoint = '1TB'")
        con.execute("INSERT INTO t VALUES (2)")
        stale_wal = (tmp_path / "copy.duckdb.wal").read_bytes()
    (tmp_path / "copy.duckdb.wal").write_bytes(stale_wal)
    copy_database(source, target)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
