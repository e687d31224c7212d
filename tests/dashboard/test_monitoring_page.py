"""The Monitoring tab and the alerts banner in a real browser (Chromium through Playwright)."""
from __future__ import annotations

import pytest

from tests.dashboard.conftest import SampleIds
from tests.dashboard.test_ui import open_tab, shoot, wait_for_client

pytestmark = pytest.mark.ui


def test_monitoring_tab_and_alerts_banner(page: object, dashboard_url: str,
                                          ids: SampleIds, db) -> None:
    page.goto(f"{dashboard_url}?client={ids.history}&lang=en", wait_until="networkidle")  # type: ignore[attr-defined]
    wait_for_client(page, ids.history)
    banner = page.locator("[data-testid=alerts-banner]")  # type: ignore[attr-defined]
    newest = db.execute("select message from serving.alerts order by raised_at desc").fetchall()
    for (text,) in newest[:5]:
        assert text in banner.inner_text()
    open_tab(page, "Monitoring", "drift-latest")
    latest_run = db.execute("select max(refresh_run_id) from serving.drift").fetchall()[0][0]
    expected = db.execute("select count(*) from serving.drift where refresh_run_id = ? and "
                          "reference = 'training'", [latest_run]).fetchall()[0][0]
    assert page.locator("[data-testid=drift-latest] tbody tr").count() == expected  # type: ignore[attr-defined]
    fairness_rows = db.execute("select count(*) from serving.fairness").fetchall()[0][0]
    assert page.locator("[data-testid=fairness-table] tbody tr").count() == fairness_rows  # type: ignore[attr-defined]
    assert page.locator("[data-testid=backtest-table] tbody tr").count() == db.execute(  # type: ignore[attr-defined]
        "select count(*) from serving.backtest").fetchall()[0][0]
    shoot(page, "monitoring-page")
    # the reference selector is a labelled control (axe: every control has a name)
    select = page.get_by_label("Drift reference population")  # type: ignore[attr-defined]
    select.select_option(label="the previous refresh")
    page.locator("[data-testid=drift-heading][data-reference=previous_refresh]").wait_for(  # type: ignore[attr-defined]
        timeout=30_000)
    expected = db.execute("select count(*) from serving.drift where refresh_run_id = ? and "
                          "reference = 'previous_refresh'", [latest_run]).fetchall()[0][0]
    assert page.locator("[data-testid=drift-latest] tbody tr").count() == expected  # type: ignore[attr-defined]
