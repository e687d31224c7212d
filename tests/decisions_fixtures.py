"""Decision-store backends for the tests: SQLite in a temp folder, or a database of one real
throwaway PostgreSQL server per session (Debian's postgresql, started and stopped here)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.decisions.throwaway_pg import PgServer, pg_bin, throwaway_postgres

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if pg_bin() is None:
        pytest.fail("PostgreSQL binaries missing: `make test` installs Debian's postgresql")
    with throwaway_postgres(durable=False) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def decisions_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty decision store of each backend (SQLite file / PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.sqlite'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database(f"decisions_{next(_databases)}")
