"""The what-if panel and the "what it would take" blocks in a real browser (Debian's Chromium
through Playwright), on the real small refresh."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import expect

from dashboard.bench import BOKEH_IDLE, run_dashboard
from dashboard.lookup import Lookup
from dashboard.whatif_lookup import WhatIfLookup
from tests.dashboard.conftest import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.dbt]


@pytest.fixture(scope="module")
def dashboard_url(published: Path) -> Iterator[str]:
    with run_dashboard(published, timeout=300) as url:
        yield url


@pytest.fixture
def page(browser: object) -> Iterator[object]:  # noqa: F811 - the fixture
    context = browser.new_context(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()


def refused_pending_with_options(wcon: duckdb.DuckDBPyConnection) -> tuple[int, list[str]]:
    rows = wcon.execute("select sk_id_curr, text from published.serving.client_recourse "
                        "order by sk_id_curr, option_rank").fetchall()
    client = rows[0][0]
    return client, [text for c, text in rows if c == client]


def open_client(page, url: str, sk_id_curr: int, view: str = "") -> None:
    page.goto(f"{url}?client={sk_id_curr}{view}", wait_until="networkidle")
    page.locator(f"[data-testid=client-summary][data-client='{sk_id_curr}']").wait_for(
        timeout=180_000)
    page.wait_for_function(BOKEH_IDLE, timeout=30_000)


def test_what_if_panel_simulates_and_resets(page, dashboard_url: str, published: Path,
                                            wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr, texts = refused_pending_with_options(wcon)
    open_client(page, dashboard_url, sk_id_curr)
    # what it would take: the precomputed options, in the advisor's words
    options = page.locator("[data-testid=recourse-options] li")
    assert [options.nth(i).inner_text() for i in range(options.count())] == texts

    page.get_by_text("What if? Simulate a changed application").click()
    note = page.locator("[data-testid=whatif-note]")
    note.wait_for(timeout=30_000)
    assert "Simulation, not a decision" in note.inner_text()
    lookup = Lookup(published)
    try:
        app = WhatIfLookup(lookup).application(sk_id_curr)
        new_credit = round(app.credit_amount * 0.6, -3)
        expected = WhatIfLookup(lookup).what_if(sk_id_curr, {"credit_amount": new_credit})
    finally:
        lookup.close()
    credit = page.get_by_label("Credit amount")
    published_credit = f"{app.credit_amount:,.0f}"  # the form shows the published value
    expect(credit).to_have_value(published_credit, timeout=30_000)
    credit.fill(str(int(new_credit)))
    credit.press("Enter")
    page.get_by_role("button", name="Simulate", exact=True).click()
    summary = page.locator("[data-testid=whatif-summary]")
    summary.wait_for(timeout=30_000)
    assert summary.get_attribute("data-score") == str(expected.score)
    assert summary.get_attribute("data-decision") == expected.decision
    unit = "point" if abs(expected.delta_points) == 1 else "points"  # the catalogue's plural
    assert f"{expected.delta_points:+d} {unit} against" in summary.inner_text()
    card = page.locator(".card", has=summary)
    assert card.locator("[data-testid=gauge]").count() == 1
    assert card.locator("[data-testid=reasons], [data-testid=favourable]").count() >= 1
    # the published decision on the page did not move
    assert page.locator("[data-testid=client-summary]").get_attribute(
        "data-decision") == "refuse"

    from axe_playwright_python.sync_playwright import Axe
    violations = Axe().run(page).response["violations"]
    unlabelled = [v["id"] for v in violations if v["id"] in (
        "label", "select-name", "button-name", "aria-input-field-name")
        and any("whatif" in str(n) or re.search(r"Credit|Annuity|Simulate", str(n))
                for n in v["nodes"])]
    assert not unlabelled, unlabelled

    page.get_by_role("button", name="Reset to the published application").click()
    summary.wait_for(state="hidden", timeout=30_000)
    expect(credit).to_have_value(published_credit, timeout=30_000)


def test_client_view_says_what_would_change_the_decision(
        page, dashboard_url: str, wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr, texts = refused_pending_with_options(wcon)
    open_client(page, dashboard_url, sk_id_curr, "&view=client")
    block = page.locator("[data-testid=recourse]")
    assert "What would change the decision" in block.inner_text()
    assert block.locator("li").count() == len(texts)
