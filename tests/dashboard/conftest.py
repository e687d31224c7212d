"""Fixtures of the dashboard tests: one small, contract-exact published warehouse per session.

`warehouse_path` is built by `serving_fixture.build_serving_warehouse` (400 clients, a second);
set PAD_TEST_WAREHOUSE=/path/to/warehouse.duckdb to run the same lookup, API and UI tests on a
real published warehouse instead. Tests therefore discover their client ids (`ids`) from the
warehouse rather than assuming the fixture's.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dashboard.bench import CHROMIUM, CHROMIUM_ARGS, run_dashboard
from dashboard.lookup import Lookup
from tests.dashboard.serving_fixture import build_serving_warehouse


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("PAD_TEST_WAREHOUSE")
    if given:
        return Path(given).resolve()
    return build_serving_warehouse(tmp_path_factory.mktemp("published") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def is_fixture(warehouse_path: Path) -> bool:
    """True on the generated fixture (tests of fixture-only details check this)."""
    return not os.environ.get("PAD_TEST_WAREHOUSE")


@pytest.fixture(scope="session")
def lookup(warehouse_path: Path) -> Iterator[Lookup]:
    lk = Lookup(warehouse_path)
    yield lk
    lk.close()


@dataclass(frozen=True)
class SampleIds:
    """Client ids of the warehouse under test, by kind."""

    granted: int
    refused: int
    history: int
    pending: int
    missing: int        # an id no client has


@pytest.fixture(scope="session")
def db(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for computing expected values independently of the lookup."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{warehouse_path}' as w (read_only)")
    con.execute("use w")
    yield con
    con.close()


@pytest.fixture(scope="session")
def ids(db: duckdb.DuckDBPyConnection) -> SampleIds:
    def first(sql: str) -> int:
        row = db.execute(sql).fetchone()
        assert row is not None, sql
        return int(row[0])

    return SampleIds(
        granted=first("select min(sk_id_curr) from serving.client_scores where decision = 'grant'"),
        refused=first("select min(sk_id_curr) from serving.client_scores "
                      "where decision = 'refuse'"),
        history=first("select min(sk_id_curr) from serving.clients where population = 'history'"),
        pending=first("select min(sk_id_curr) from serving.clients where population = 'pending'"),
        missing=first("select max(sk_id_curr) + 7 from serving.clients"),
    )


# --- the browser tests' fixtures (test_ui, test_accessibility) ---------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: run `make browsers`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard_url(warehouse_path: Path) -> Iterator[str]:
    with run_dashboard(warehouse_path) as url:
        yield url


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if r.url.startswith("http") and not
            r.url.startswith(("http://127.0.0.1", "http://localhost")) else None)
    yield page
    context.close()
    # everything the app needs is served locally: no CDN, no fonts from the internet
    assert not outside, outside[:5]
