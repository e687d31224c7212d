"""The what-if card and the recourse blocks rendered by Panel (in-process, a Bokeh document),
on the real small refresh; the browser test (test_ui.py) drives the same through Chromium."""
from __future__ import annotations

from pathlib import Path

import duckdb
import panel as pn
import pytest
from bokeh.document import Document

from dashboard.app import DashboardApp
from dashboard.lookup import Lookup
from dashboard.whatif_source import whatif_source

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def test_what_if_card_runs_and_resets_in_a_document(published: Path,
                                                    wcon: duckdb.DuckDBPyConnection) -> None:
    [(sk_id_curr,)] = wcon.execute("select sk_id_curr from published.serving.client_recourse "
                                   "order by 1 limit 1").fetchall()
    pn.extension()
    lookup = Lookup(published)
    app = DashboardApp(lookup, lang="en")
    pn.panel(app).get_root(Document())
    app.client = str(sk_id_curr)
    app.tabs.active = list(app.pages).index("client")  # pages render when shown
    page = app.pages["client"]
    assert "What it would take" in page._pane.object
    panel = page._whatif
    panel._layout.collapsed = False  # opening the card loads the application
    published_credit = panel.inputs["credit_amount"].value
    assert published_credit == whatif_source(lookup).application(sk_id_curr).credit_amount
    panel.inputs["income"].value = panel.inputs["income"].value * 3
    panel.run()
    expected = whatif_source(lookup).what_if(sk_id_curr, panel.edits())
    assert f"data-score='{expected.score}'" in panel._summary.object
    assert panel._results.visible and panel._chart.visible and panel._chart.object
    panel.restore()
    assert not panel._results.visible and panel.edits() == {}
    app.param.update(view="client")
    assert "What would change the decision" in app.self_view._reasons.object
    lookup.close()
