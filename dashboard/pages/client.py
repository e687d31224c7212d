"""The client page: decision, score, gauge, reasons, waterfall and descriptive data, with the
what-if card and (when mounted) the decision record below."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard import plots
from dashboard.formatting import as_frame
from dashboard.html_charts import gauge_html, waterfall_html
from dashboard.pages.base import Page
from dashboard.pages.client_parts import (
    driver_frame,
    profile_html,
    reasons_html,
    summary_html,
)
from dashboard.pages.whatif import RecourseBlock, WhatIfPanel
from dashboard.schemas import ClientRecord, ClientScore, Explanation
from dashboard.source import DataSource
from dashboard.texts import N_, Texts
from dashboard.theme import TEXT

WATERFALL_INTRO = N_("From the average client's score, each bar adds (blue, to the right) or "
                     "removes (vermillion, to the left) points; the values are printed at the "
                     "end of each row.")


def client_page_html(score: ClientScore, explanation: Explanation, record: ClientRecord,
                     bands: pd.DataFrame, tr: Texts) -> str:
    """The whole client page as one HTML fragment: summary, gauge, reasons, waterfall (when
    the explanation has drivers) and descriptive data."""
    waterfall = ""
    if explanation.drivers:
        steps = plots.waterfall_steps(driver_frame(explanation.drivers, tr),
                                      as_frame(explanation.families), tr)
        waterfall = (f"<h3>{html.escape(tr._('How the score is built'))}</h3>"
                     f"<p>{html.escape(tr._(WATERFALL_INTRO))}</p>"
                     + waterfall_html(steps, explanation.base_points, explanation.score, tr))
    return (summary_html(score, tr) + gauge_html(score.score, score.score_cutoff, bands, tr)
            + reasons_html(explanation, tr) + waterfall
            + f"<h3>{html.escape(tr._('Descriptive data'))}</h3>" + profile_html(record, tr))


CLIENT_PROMPT = N_("Type a client id (or its first digits) above to see its decision.")


class ClientPage(Page):
    """Decision, score, gauge, reasons, waterfall and descriptive data of one client.

    One HTML pane for the whole page, created with the session and showing a prompt until a
    client is picked: every client, the first one included, is then one replacement of its
    text. (A Panel component per part cost the first client of a browser session three
    times a switch: the browser built a view for each of them.)
    """

    decision_panel: Any = None     # dashboard.pages.decisions.DecisionPanel, when mounted

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(source, tr, **params)
        self._pane = pn.pane.HTML(sizing_mode="stretch_width")
        self._with_decisions: pn.Column | None = None
        self._recourse, self._whatif = RecourseBlock(source, tr), WhatIfPanel(source, tr)

    def __panel__(self) -> pn.viewable.Viewable:
        # the what-if card below the client's page, built with the session (not per client)
        return pn.Column(self._body, self._whatif, sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        if self.client_id is None:
            self._pane.object = (f"<p class='pad-prompt' style='color:{TEXT}'>"
                                 f"{html.escape(self.tr._(CLIENT_PROMPT))}</p>")
            return self._pane
        cid = self.client_id
        score = self._source.score(cid)
        record, bands = self._source.client(cid), as_frame(self._source.portfolio().bands)
        self._pane.object = client_page_html(score, self._source.explanation(cid), record,
                                             bands, self.tr) + self._recourse.html(
            score, record.population)
        self._whatif.show(cid, bands, score.score_cutoff)
        if self.decision_panel is None:
            return self._pane
        self.decision_panel.show(cid, score)
        # one layout for every client, like the pane: a switch replaces contents only
        self._with_decisions = self._with_decisions or pn.Column(
            self._pane, self.decision_panel.view, sizing_mode="stretch_width")
        return self._with_decisions


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("How the score is built"), N_("Descriptive data"))
