"""The Monitoring tab and the alerts banner in a real browser (Chromium through Playwright)."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dashboard.bench import run_dashboard
from dashboard.pages.alert_texts import WORDINGS
from dashboard.pages.monitoring import RECENT_ALERTS
from tests.dashboard.conftest import SampleIds
from tests.dashboard.test_ui import open_tab, shoot, wait_for_client

pytestmark = pytest.mark.ui
NNBSP, NBSP = "\u202f", "\u00a0"   # French thousands separator, space before %
# the fixture's drift, fairness and back-test alerts (serving_fixture.ALERT_DETAILS) as worded
WORDED = {
    "en": [("population drift: 1 flag to act on and 2 flags to watch; largest PSI: "
            "application_ext_source_2 0.31 (training)"),
           "four-fifths rule: grant rate below 80% of the best group for gender: male (0.72)",
           ("back-test failed (risk under-estimated): band E (predicted 5.0%, observed 9.1% "
            "of 1,234 clients, p = 0.002)")],
    "fr": [("dérive de la population : 1 signal à traiter et 2 signaux à surveiller ; PSI le "
            "plus élevé : application_ext_source_2 0,31 (entraînement)"),
           (f"règle des quatre cinquièmes : taux d’accord inférieur à 80{NBSP}% de celui du "
            "meilleur groupe pour sexe : homme (0,72)"),
           (f"contrôle a posteriori en échec (risque sous-estimé) : classe E (prédit "
            f"5,0{NBSP}%, observé 9,1{NBSP}% sur 1{NNBSP}234 clients, p = 0,002)")]}
# the fixture's alerts shown as recorded: an error, and a drift record older than the details
AS_RECORDED = ["refresh x failed: boom", "population drift: 1 act and 2 watch flags"]


def test_monitoring_tab_and_alerts_banner(page: object, dashboard_url: str,
                                          ids: SampleIds, db, is_fixture: bool) -> None:
    page.goto(f"{dashboard_url}?client={ids.history}&lang=en", wait_until="networkidle")  # type: ignore[attr-defined]
    wait_for_client(page, ids.history)
    shown = page.locator("[data-testid=alerts-banner]").inner_text()  # type: ignore[attr-defined]
    newest = db.execute("select kind, message from serving.alerts order by raised_at desc "
                        f"limit {RECENT_ALERTS}").fetchall()
    for kind, text in newest:
        if kind not in WORDINGS:    # errors are shown as recorded
            assert text in shown
    if is_fixture:
        for text in WORDED["en"] + AS_RECORDED:
            assert text in shown
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



def french_banner_intro(page: object, dashboard_url: str, client: int) -> tuple[int, str]:
    """The number of alerts the French banner lists, and its first line."""
    page.goto(f"{dashboard_url}?client={client}&lang=fr", wait_until="networkidle")  # type: ignore[attr-defined]
    wait_for_client(page, client)
    banner = page.locator("[data-testid=alerts-banner]")  # type: ignore[attr-defined]
    return banner.locator("li").count(), banner.inner_text().split("\n")[0]


def test_the_french_alerts_banner_words_the_alerts_in_french(
        page: object, dashboard_url: str, ids: SampleIds, is_fixture: bool) -> None:
    """Drift, fairness and back-test alerts are worded from their figures in French; what only
    has the recorded English text (errors, records older than the details) is marked English."""
    if not is_fixture:
        pytest.skip("checks the fixture's alerts")
    french_banner_intro(page, dashboard_url, ids.history)
    banner = page.locator("[data-testid=alerts-banner]")  # type: ignore[attr-defined]
    shown = banner.inner_text()
    for text in WORDED["fr"]:
        assert text in shown
    assert sorted(banner.locator("[lang=en]").all_inner_texts()) == sorted(AS_RECORDED)


def test_the_french_alerts_banner_agrees_with_its_count(page: object, dashboard_url: str,
                                                       warehouse_path: Path, tmp_path: Path,
                                                       ids: SampleIds, db) -> None:
    """In French the banner's intro takes the plural form of the number of alerts it lists:
    one alert is « la plus récente », not « les 1 plus récentes » (seen on `make demo`)."""
    listed, intro = french_banner_intro(page, dashboard_url, ids.history)
    alerts = db.execute("select count(*) from serving.alerts").fetchall()[0][0]
    assert listed == min(RECENT_ALERTS, alerts) and listed > 1
    assert f"Alertes de surveillance — les {listed} plus récentes (détails dans l’onglet " \
           "Surveillance)" in intro, intro

    one_alert = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse_path, one_alert)
    with duckdb.connect(str(one_alert)) as con:
        con.execute("delete from serving.alerts where alert_id <> "
                    "(select max(alert_id) from serving.alerts)")
    with run_dashboard(one_alert) as url:
        listed, intro = french_banner_intro(page, url, ids.history)
    assert listed == 1
    assert "Alertes de surveillance — la plus récente (détails dans l’onglet Surveillance)" \
        in intro, intro
