"""Fixtures for the dbt tests: ONE dbt build of a small generated portfolio per session."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from warehouse.dbt_runner import DbtRun


@dataclass(frozen=True)
class Build:
    """A built warehouse file and what went into it."""

    db_path: Path
    raw: Path
    work: Path
    nodes: int
    seconds: float
    run: DbtRun


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory: pytest.TempPathFactory, small_raw: Path) -> Build:
    """small_raw (tests/conftest.py) loaded by warehouse.raw.load and built with every test
    (full_checks); dbt's target/ and logs/ stay in the temporary folder."""
    from warehouse.dbt_runner import build_marts
    from warehouse.raw.load import load_into

    work = tmp_path_factory.mktemp("dbt-build")
    db_path = work / "warehouse.duckdb"
    load_into(db_path, small_raw, work_dir=work / "load")
    run = build_marts(db_path, full_checks=True, target_dir=work / "target", log_dir=work / "logs")
    return Build(db_path, small_raw, work, len(run.nodes), run.seconds, run)
