"""The dashboard in a real browser (Debian's Chromium through Playwright).

One dashboard child process per module on the session's warehouse; the tests find a client,
read its score, decision and reasons, switch pages, open the deep links, and save small
screenshots (palette PNGs, < 200 KB each): to docs/screenshots/ when the tests run on a real
published warehouse (PAD_TEST_WAREHOUSE), so the documentation shows pipeline output; to the
git-ignored tests/artifacts/screenshots/ on the generated fixture.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.bench import BOKEH_IDLE, run_api, run_dashboard
from tests.dashboard.conftest import SampleIds

pytestmark = pytest.mark.ui
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = (REPO / "docs" / "screenshots" if os.environ.get("PAD_TEST_WAREHOUSE")
               else REPO / "tests" / "artifacts" / "screenshots")
SEARCH = "Client id or its first digits"


def shoot(page: object, name: str) -> Path:
    """A screenshot of the viewport as a 256-colour PNG (small enough for the repository)."""
    from PIL import Image

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    raw = target.with_suffix(".raw.png")
    page.screenshot(path=str(raw))  # type: ignore[attr-defined]
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(
            target, optimize=True)
    raw.unlink()
    assert target.stat().st_size < 200_000, f"{target} is too large"
    return target


def wait_for_client(page: object, sk_id_curr: int) -> None:
    page.locator(f"[data-testid=client-summary][data-client='{sk_id_curr}']").wait_for(  # type: ignore[attr-defined]
        timeout=30_000)
    page.wait_for_function(BOKEH_IDLE, timeout=30_000)  # type: ignore[attr-defined]


def open_tab(page: object, name: str, marker: str) -> None:
    page.locator(".bk-tab", has_text=name).click()  # type: ignore[attr-defined]
    page.locator(f"[data-testid={marker}]").wait_for(timeout=30_000)  # type: ignore[attr-defined]
    page.wait_for_function(BOKEH_IDLE, timeout=30_000)  # type: ignore[attr-defined]


def test_find_a_client_and_read_the_decision(page: object, dashboard_url: str,
                                            ids: SampleIds) -> None:
    page.goto(dashboard_url, wait_until="networkidle")  # type: ignore[attr-defined]
    field = page.get_by_placeholder(SEARCH)  # type: ignore[attr-defined]
    prefix = str(ids.refused)[:-1]
    field.fill(prefix)
    status = page.locator("[data-testid=search-status]")  # type: ignore[attr-defined]
    status.filter(has_text=f"start with {prefix}").wait_for()
    field.fill(str(ids.refused))
    field.press("Enter")
    wait_for_client(page, ids.refused)
    summary = page.locator("[data-testid=client-summary]")  # type: ignore[attr-defined]
    assert "Refuse" in summary.inner_text()
    assert page.locator("[data-testid=score]").inner_text().startswith("Score ")  # type: ignore[attr-defined]
    reasons = page.locator("[data-testid=reasons] li")  # type: ignore[attr-defined]
    assert 1 <= reasons.count() <= 4
    assert "points" in reasons.first.inner_text()
    assert "refused at" in page.locator("[data-testid=gauge]").inner_text()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=client-profile] section").count() == 4  # type: ignore[attr-defined]
    shoot(page, "client-page")

    # switching to another client updates the same page
    field.fill(str(ids.granted))
    field.press("Enter")
    wait_for_client(page, ids.granted)
    assert "Grant" in summary.inner_text()
    assert f"client={ids.granted}" in page.url  # type: ignore[attr-defined]


def test_pages(page: object, dashboard_url: str, ids: SampleIds) -> None:
    page.goto(f"{dashboard_url}?client={ids.history}", wait_until="networkidle")  # type: ignore[attr-defined]
    wait_for_client(page, ids.history)
    open_tab(page, "Comparison", "comparison-summary")
    assert "This client" in page.locator("[data-testid=comparison-summary]").inner_text()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=similar-clients] tbody tr").count() == 10  # type: ignore[attr-defined]
    page.get_by_role("button", name="Similar clients").click()  # type: ignore[attr-defined]
    page.locator("[data-testid=comparison-summary]", has_text="similar clients").wait_for()  # type: ignore[attr-defined]
    page.wait_for_function(BOKEH_IDLE)  # type: ignore[attr-defined]
    shoot(page, "comparison-page")
    open_tab(page, "Portfolio", "portfolio-summary")
    assert "clients scored" in page.locator("[data-testid=portfolio-summary]").inner_text()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=band-table] tbody tr").count() >= 1  # type: ignore[attr-defined]
    shoot(page, "portfolio-page")
    open_tab(page, "Model", "model-summary")
    assert "OOF ROC AUC" in page.locator("[data-testid=model-summary]").inner_text()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=model-runs] tbody tr").count() >= 1  # type: ignore[attr-defined]
    shoot(page, "model-page")


def test_deep_links(page: object, dashboard_url: str, ids: SampleIds) -> None:
    page.goto(f"{dashboard_url}?client={ids.pending}", wait_until="networkidle")  # type: ignore[attr-defined]
    wait_for_client(page, ids.pending)
    page.goto(f"{dashboard_url}?client={ids.refused}&view=client",  # type: ignore[attr-defined]
              wait_until="networkidle")
    wait_for_client(page, ids.refused)
    text = page.locator("[data-testid=client-summary]").inner_text()  # type: ignore[attr-defined]
    assert f"Your application {ids.refused}" in text and "could not be accepted" in text
    assert page.get_by_placeholder(SEARCH).count() == 0  # type: ignore[attr-defined]
    assert page.locator(".bk-tab").count() == 0  # type: ignore[attr-defined]
    page.get_by_text("What lowers your score").wait_for()  # type: ignore[attr-defined]
    shoot(page, "client-view")


def test_unknown_and_malformed_clients(page: object, dashboard_url: str,
                                       ids: SampleIds) -> None:
    page.goto(f"{dashboard_url}?client={ids.missing}", wait_until="networkidle")  # type: ignore[attr-defined]
    page.get_by_text(f"client {ids.missing} not found").wait_for()  # type: ignore[attr-defined]
    page.goto(f"{dashboard_url}?client=abc%27%3B--", wait_until="networkidle")  # type: ignore[attr-defined]
    page.get_by_text("Type a client id").wait_for()  # type: ignore[attr-defined]
    field = page.get_by_placeholder(SEARCH)  # type: ignore[attr-defined]
    field.fill("12ab")
    field.press("Enter")
    page.get_by_text("Type the digits of a client id.").wait_for()  # type: ignore[attr-defined]


def test_dashboard_through_the_api(browser: object, warehouse_path: Path,
                                   ids: SampleIds) -> None:
    with run_api(warehouse_path) as api_url, run_dashboard(warehouse_path,
                                                           api_url=api_url) as url:
        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(f"{url}?client={ids.granted}", wait_until="networkidle")
        wait_for_client(page, ids.granted)
        assert page.locator("[data-testid=reasons] li, [data-testid=client-summary]").count()
        context.close()
