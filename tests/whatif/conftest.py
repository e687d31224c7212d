"""Fixtures of the what-if tests: one real small refresh (1,500 generated clients, fast
training settings) whose published warehouse every what-if test reads."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dashboard.lookup import Lookup
from flows.refresh import run_refresh
from models_ml.whatif import WhatIfModel, read_whatif_model
from warehouse.config import pad_paths

FAST_TRAINING = {"PAD_ML_FOLDS": "2", "PAD_ML_MAX_TREES": "60"}


@pytest.fixture(scope="session")
def whatif_home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                ) -> Path:
    """PAD_HOME after a cold refresh (training included) of the 1,500-client portfolio;
    PAD_TEST_WHATIF_HOME=/path/to/home reuses a refreshed one (read-only) instead."""
    given = os.environ.get("PAD_TEST_WHATIF_HOME")
    if given:
        return Path(given).resolve()
    small_raw = request.getfixturevalue("small_raw")
    request.getfixturevalue("prefect_server")
    home = tmp_path_factory.mktemp("whatif-home")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in FAST_TRAINING.items():
            patch.setenv(key, value)
        assert run_refresh(raw=small_raw, retrain=True, paths=pad_paths(home)) == 0
    return home


@pytest.fixture(scope="session")
def published(whatif_home: Path) -> Path:
    return whatif_home / "warehouse.duckdb"


@pytest.fixture(scope="session")
def wcon(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the published warehouse attached read-only as `published`,
    as the lookup attaches it."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{published}' as published (read_only)")
    yield con
    con.close()


@pytest.fixture(scope="session")
def engine(wcon: duckdb.DuckDBPyConnection) -> WhatIfModel:
    return read_whatif_model(wcon.cursor(), "published.serving.whatif_model")


@pytest.fixture(scope="session")
def wlookup(published: Path) -> Iterator[Lookup]:
    lk = Lookup(published)
    yield lk
    lk.close()
