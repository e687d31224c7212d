"""The decision record in a real browser: the work list, an advisor confirming a decision on
the client page, a client contesting it from the client view with the notice's code."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard.bench import BOKEH_IDLE, run_dashboard
from tests.dashboard.conftest import SampleIds
from warehouse.config import PadPaths
from warehouse.decisions import DecisionStore
from warehouse.decisions.contest import contest_code, contest_key

pytestmark = pytest.mark.ui


def test_work_list_confirm_and_contest(page: object, warehouse_path: Path, ids: SampleIds,
                                       tmp_path: Path) -> None:
    shutil.copyfile(warehouse_path, tmp_path / "warehouse.duckdb")
    env = {"PAD_ADVISOR_TOKENS": "alice:tok-alice-123"}
    with run_dashboard(tmp_path / "warehouse.duckdb", env=env) as url:
        page.goto(url, wait_until="networkidle")  # type: ignore[attr-defined]
        pending = page.locator("[data-testid=worklist-pending] a")  # type: ignore[attr-defined]
        pending.first.wait_for(timeout=30_000)
        assert pending.count() >= 5

        page.goto(f"{url}?client={ids.refused}", wait_until="networkidle")  # type: ignore[attr-defined]
        page.locator("[data-testid=decision-given]").wait_for(timeout=30_000)  # type: ignore[attr-defined]
        page.wait_for_function(BOKEH_IDLE, timeout=30_000)  # type: ignore[attr-defined]
        page.get_by_placeholder("your PAD_ADVISOR_TOKENS token").fill("tok-alice-123")  # type: ignore[attr-defined]
        page.get_by_role("button", name="Identify").click()  # type: ignore[attr-defined]
        page.locator("text=Identified as").wait_for(timeout=30_000)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Confirm").click()  # type: ignore[attr-defined]
        page.locator("[data-testid=decision-given][data-decision=refuse]").wait_for(  # type: ignore[attr-defined]
            timeout=30_000)

        page.goto(f"{url}?client={ids.refused}&view=client", wait_until="networkidle")  # type: ignore[attr-defined]
        page.locator("[data-testid=client-decision-given][data-decision=refuse]").wait_for(  # type: ignore[attr-defined]
            timeout=30_000)
        page.wait_for_function(BOKEH_IDLE, timeout=30_000)  # type: ignore[attr-defined]
        page.get_by_placeholder("Explain why you disagree").fill(  # type: ignore[attr-defined]
            "I started a permanent job in May, my income doubled.")
        code = contest_code(contest_key(PadPaths(tmp_path)), ids.refused)
        page.get_by_placeholder("XXXX-XXXX").fill(code)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Send my contest").click()  # type: ignore[attr-defined]
        page.locator("text=Your contest is recorded").wait_for(timeout=30_000)  # type: ignore[attr-defined]

    store = DecisionStore.for_paths(PadPaths(tmp_path), read_only=True)
    history = store.history(ids.refused)
    store.close()
    assert [(e["kind"], e["actor"]) for e in history] == [("confirmed", "alice"),
                                                          ("contested", "client")]
