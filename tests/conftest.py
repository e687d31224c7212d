"""Shared fixtures: small generated portfolios (seconds), one Prefect test server per session."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API for every flow run of the session (each run would otherwise
    start its own, ~15 s each)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ.setdefault("PREFECT_HOME", str(home))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-client portfolio shared read-only by the tests that need raw files."""
    from warehouse.raw.generate import generate_portfolio

    out = tmp_path_factory.mktemp("raw-1500")
    generate_portfolio(clients=1500, out_dir=out, seed=11)
    return out


from tests.decisions_fixtures import decisions_url, pg_server  # noqa: F401
