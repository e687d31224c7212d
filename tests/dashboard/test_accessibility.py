"""Every dashboard page audited by axe-core (axe-playwright-python) in Debian's Chromium:
no serious or critical violation of WCAG 2.1 A/AA.

Panel renders each component inside an open shadow root; axe-core walks open shadow roots, and
`test_axe_sees_inside_panels_shadow_roots` proves it does here. A page added later (what-if
panel, work list, monitoring…) is one more `Audited(...)` line in PAGES.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from dashboard.bench import BOKEH_IDLE
from tests.dashboard.conftest import SampleIds

pytestmark = pytest.mark.ui
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Audited:
    """A page to audit: its URL query (client ids by kind, from SampleIds), the tab to open
    (None: the page the URL shows), Playwright selectors to click then (e.g. a button that
    opens a panel) and one that appears once it is rendered (Playwright's selectors reach
    into shadow roots)."""

    name: str
    query: str
    ready: str
    tab: str | None = None
    clicks: tuple[str, ...] = ()


PAGES = [
    Audited("start", "", "text=Type a client id"),
    Audited("client", "?client={refused}", "[data-testid=client-summary]"),
    Audited("comparison", "?client={history}", "[data-testid=comparison-summary]",
            tab="Comparison"),
    Audited("comparison, similar clients", "?client={history}",
            "[data-testid=comparison-summary]:has-text('most similar clients')",
            tab="Comparison", clicks=("button:has-text('Similar clients')",)),
    Audited("portfolio", "", "[data-testid=portfolio-summary]", tab="Portfolio"),
    Audited("model", "", "[data-testid=model-summary]", tab="Model"),
    Audited("monitoring", "", "[data-testid=drift-latest]", tab="Monitoring"),
    Audited("client view", "?client={refused}&view=client", "[data-testid=client-summary]"),
    Audited("unknown client", "?client={missing}", "text=not found"),
    Audited("work list", "", "[data-testid=worklist-pending]"),
]


def open_audited(page: object, base_url: str, audited: Audited, ids: SampleIds) -> None:
    query = audited.query.format(**vars(ids))
    page.goto(base_url + query, wait_until="networkidle")  # type: ignore[attr-defined]
    if audited.tab:
        page.locator(".bk-tab", has_text=audited.tab).click()  # type: ignore[attr-defined]
    for selector in audited.clicks:
        page.locator(selector).first.click()  # type: ignore[attr-defined]
    page.locator(audited.ready).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    page.wait_for_function(BOKEH_IDLE, timeout=30_000)  # type: ignore[attr-defined]


def audit(page: object) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of the page, every impact."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_21_A_AA},
               "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def readable(violations: list[dict]) -> str:
    """One paragraph per violation: rule, impact, what it means, and each offending element
    (its selector path through shadow roots) with axe's summary of how to fix it."""
    parts = []
    for v in violations:
        nodes = "\n".join(
            f"    - {' >> '.join(map(str, n['target']))}\n      "
            + " ".join(n.get("failureSummary", "").split())
            for n in v["nodes"][:8])
        more = f"\n    … and {len(v['nodes']) - 8} more" if len(v["nodes"]) > 8 else ""
        parts.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})\n{nodes}{more}")
    return "\n".join(parts)


@pytest.mark.parametrize("audited", PAGES, ids=lambda a: a.name)
def test_no_serious_wcag_violation(page: object, dashboard_url: str, ids: SampleIds,
                                   audited: Audited) -> None:
    open_audited(page, dashboard_url, audited, ids)
    blocking = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not blocking, f"{audited.name}: {len(blocking)} serious/critical WCAG 2.1 A/AA " \
                         f"violation(s)\n{readable(blocking)}"


def test_axe_sees_inside_panels_shadow_roots(page: object, dashboard_url: str,
                                            ids: SampleIds) -> None:
    """An image without a text alternative, planted inside a Panel component's shadow root,
    is reported: the audits above cover what Panel renders."""
    open_audited(page, dashboard_url, PAGES[1], ids)
    planted = page.evaluate("""() => {
      const hosts = [];
      const walk = root => root.querySelectorAll('*').forEach(e => {
        if (e.shadowRoot) { hosts.push(e); walk(e.shadowRoot); }
      });
      walk(document);
      const host = hosts.find(h => h.shadowRoot.querySelector('[data-testid=client-summary]'));
      if (!host) return false;
      const img = document.createElement('img');
      img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      img.id = 'planted-without-alt';
      host.shadowRoot.appendChild(img);
      return true;
    }""")  # type: ignore[attr-defined]
    assert planted, "no shadow root holds the client summary: Panel's rendering changed"
    found = [v for v in audit(page) if v["id"] == "image-alt"]
    assert found and any("#planted-without-alt" in str(n["target"]) for n in found[0]["nodes"])
