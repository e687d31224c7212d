"""warehouse.dbt_runner: the build releases the DuckDB file, failures name the failing node."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.warehouse.conftest import Build
from warehouse.dbt_runner import build_marts, generate_docs, run_dbt
from warehouse.errors import RunFailure

pytestmark = pytest.mark.dbt


def test_build_releases_the_write_lock(dbt_build: Build) -> None:
    # keep_open: false — a writer can open the file right after dbt returned, in this process
    con = duckdb.connect(str(dbt_build.db_path))
    try:
        con.execute("create or replace table main.lock_probe as select 1 as x")
        con.execute("drop table main.lock_probe")
    finally:
        con.close()


def test_build_ran_models_tests_and_unit_tests(dbt_build: Build) -> None:
    assert dbt_build.nodes > 50


def test_profile_times_every_node_and_the_fixed_cost(dbt_build: Build) -> None:
    profile = dbt_build.run.profile()
    names = [name for name, _ in profile]
    assert len(names) == dbt_build.nodes + 1 and "model.pad_warehouse.client_features" in names
    fixed = dict(profile)["dbt fixed cost (start, parse, connect, outside nodes)"]
    assert 0 < fixed < dbt_build.run.seconds
    seconds = [sec for _, sec in profile]
    assert seconds == sorted(seconds, reverse=True)


def test_failure_names_the_failing_node(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"  # no raw schema: the staging view cannot be created
    with pytest.raises(RunFailure, match="stg_homecredit__bureau_credits"):
        run_dbt(["run", "--select", "stg_homecredit__bureau_credits"], empty,
                target_dir=tmp_path / "target", log_dir=tmp_path / "logs")
    duckdb.connect(str(empty)).close()  # and the file is not left locked


def test_a_build_writes_its_target_and_logs_in_its_home(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAD_HOME", str(tmp_path / "home"))
    with pytest.raises(RunFailure):  # an empty file: the node fails, its results are written
        run_dbt(["run", "--select", "stg_homecredit__bureau_credits"], tmp_path / "empty.duckdb")
    work = tmp_path / "home" / "dbt"
    assert (work / "target" / "run_results.json").is_file()
    assert (work / "logs" / "dbt.log").is_file()


def test_a_marts_build_out_of_memory_names_the_setting_to_raise(tmp_path: Path,
                                                               small_raw: Path) -> None:
    from warehouse.raw.load import load_into

    db_path = tmp_path / "warehouse.duckdb"
    load_into(db_path, small_raw, work_dir=tmp_path / "load")
    with pytest.raises(RunFailure) as failure:
        build_marts(db_path, memory_limit="8MB", target_dir=tmp_path / "target",
                    log_dir=tmp_path / "logs")
    message = str(failure.value)
    assert "\n" not in message and message.startswith("dbt build: "), message
    assert message.endswith("memory limit of 8MB: raise PAD_MARTS_MEMORY_LIMIT, set "
                            "PAD_MARTS_DBT_THREADS=1, or split the clients with "
                            "`pad refresh --partitions P`"), message
    assert "SET memory_limit" not in message  # DuckDB's own advice names settings users lack


def test_docs_generate(dbt_build: Build, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(dbt_build.db_path.read_bytes())
    # the marts selection: the serving models need ml.*, which models_ml writes later
    generate_docs(copy, target_dir=tmp_path / "docs", selector="marts", log_dir=tmp_path / "logs")
    assert (tmp_path / "docs" / "catalog.json").stat().st_size > 0
    assert (tmp_path / "docs" / "index.html").exists()
