"""Every dashboard page audited by axe-core (axe-playwright-python) in Debian's Chromium:
no serious or critical violation of WCAG 2.1 A/AA, in French and in English, with the page's
`<html lang>` and every shown text from the message catalogue (`shown_texts`).

Panel renders each component inside an open shadow root; axe-core walks open shadow roots, and
`test_axe_sees_inside_panels_shadow_roots` proves it does here. A page added later (what-if
panel, work list, monitoring…) is one more `Audited(...)` line in PAGES.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pytest

from dashboard.bench import BOKEH_IDLE
from dashboard.texts import texts
from i18n import has_text
from tests.dashboard.conftest import SampleIds
from tests.dashboard.shown_texts import page_texts, untranslated

pytestmark = pytest.mark.ui
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Audited:
    """A page to audit: its URL query (client ids by kind, from SampleIds), the tab to open
    (None: the page the URL shows), Playwright selectors to click then (e.g. a button that
    opens a panel) and one that appears once it is rendered (Playwright's selectors reach
    into shadow roots). Shown texts are catalogue msgids, `{…}` the page's language's."""

    name: str
    query: str
    ready: str
    tab: str | None = None
    clicks: tuple[str, ...] = ()


PAGES = [
    Audited("start", "", "text={Type a client id (or its first digits) above to see its "
                         "decision.}"),
    Audited("client", "?client={refused}", "[data-testid=client-summary]"),
    Audited("comparison", "?client={history}", "[data-testid=comparison-summary]",
            tab="Comparison"),
    Audited("comparison, similar clients", "?client={history}",
            "[data-testid=comparison-summary]:has-text('{the 50 most similar clients}')",
            tab="Comparison", clicks=("button:has-text('{Similar clients}')",)),
    Audited("portfolio", "", "[data-testid=portfolio-summary]", tab="Portfolio"),
    Audited("model", "", "[data-testid=model-summary]", tab="Model"),
    Audited("monitoring", "", "[data-testid=drift-latest]", tab="Monitoring"),
    Audited("client view", "?client={refused}&view=client", "[data-testid=client-summary]"),
    Audited("unknown client", "?client={missing}", "div.alert"),
    Audited("work list", "", "[data-testid=worklist-pending]"),
]
LANGS = ("fr", "en")


def in_language(selector: str, lang: str) -> str:
    """`{msgid}` in a selector replaced by its text in `lang`."""
    return re.sub(r"\{([^{}]+)\}", lambda m: texts(lang)._(m.group(1)), selector)


def open_audited(page: object, base_url: str, audited: Audited, ids: SampleIds,
                 lang: str = "en") -> None:
    query = audited.query.format(**vars(ids))
    query = f"{query}{'&' if query else '?'}lang={lang}"
    page.goto(base_url + query, wait_until="networkidle")  # type: ignore[attr-defined]
    if audited.tab:
        page.locator(".bk-tab", has_text=texts(lang)._(audited.tab)).click()  # type: ignore[attr-defined]
    for selector in audited.clicks:
        page.locator(in_language(selector, lang)).first.click()  # type: ignore[attr-defined]
    page.locator(in_language(audited.ready, lang)).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
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


@pytest.fixture(scope="module")
def shown_data(db: duckdb.DuckDBPyConnection) -> set[str]:
    """Values the pages show as the warehouse holds them: model versions, refresh ids, and
    the messages of the refreshes' alerts (one line of English each, as raised), and the
    feature labels the catalogue does not translate (issue 12: the 30 most important
    features of the real champion have French names, the others keep their English label)."""
    values = {r[0] for r in db.execute(
        "select model_version from serving.model_runs union select refresh_run_id "
        "from serving.drift union select distinct feature_name from serving.drift "
        "union select message from serving.alerts").fetchall()}
    for name, label in db.execute("select feature_name, feature_label "
                                  "from serving.feature_dictionary").fetchall():
        values.add(name)
        if not has_text("feature", name, "fr"):
            values.add(label)
    return values


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("audited", PAGES, ids=lambda a: a.name)
def test_every_page_in_both_languages(page: object, dashboard_url: str, ids: SampleIds,
                                      audited: Audited, lang: str, shown_data: set[str]
                                      ) -> None:
    """axe-core finds no serious or critical WCAG 2.1 A/AA violation, `<html lang>` names the
    page's language, and every text the page shows comes from the catalogue in it."""
    open_audited(page, dashboard_url, audited, ids, lang)
    assert page.locator("html").get_attribute("lang") == lang  # type: ignore[attr-defined]
    blocking = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not blocking, f"{audited.name}: {len(blocking)} serious/critical WCAG 2.1 A/AA " \
                         f"violation(s)\n{readable(blocking)}"
    left = untranslated(page_texts(page), lang, shown_data | {str(v) for v in vars(ids).values()})
    assert not left, f"{audited.name} ({lang}): texts not from the {lang} catalogue:\n" + \
        "\n".join(left)


def test_the_text_check_finds_a_text_left_out_of_the_catalogue() -> None:
    """The check above can fail: an English sentence on a French page, or a text the code
    wrote without the catalogue, is reported; the same texts from the catalogue are not."""
    french = texts("fr")
    shown = [french._("What lowers the score"), french._("Score {points} points", points="512"),
             "12 345 €"]
    assert untranslated(shown, "fr") == []
    [left] = untranslated([*shown, "What lowers the score"], "fr")
    assert left.startswith("'What lowers the score'") and "lowers" in left
    assert untranslated(["Nothing to review today"], "en") != []


def test_axe_sees_inside_panels_shadow_roots(page: object, dashboard_url: str,
                                            ids: SampleIds) -> None:
    """An image without a text alternative, planted inside a Panel component's shadow root,
    is reported: the audits above cover what Panel renders."""
    open_audited(page, dashboard_url, PAGES[1], ids, "en")
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
