"""A client's own view of its file (`/?client=<id>&view=client`), in plain words."""
from __future__ import annotations

import html
from typing import Any

import panel as pn

from dashboard.formatting import STYLE, as_frame, badge, heading, message
from dashboard.html_charts import gauge_html
from dashboard.pages.base import Page
from dashboard.pages.client_parts import profile_html, reasons_html
from dashboard.pages.whatif import RecourseBlock
from dashboard.schemas import ClientScore
from dashboard.source import DataSource
from dashboard.texts import N_, Texts
from dashboard.theme import MUTED_TEXT, TEXT


class ClientSelfView(Page):
    """A client's own file in plain language (`?client=<id>&view=client`)."""

    contest_box: Any = None        # dashboard.pages.decisions.ContestBox, when mounted

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(source, tr, **params)
        self._summary = pn.pane.HTML(sizing_mode="stretch_width")
        self._gauge = pn.pane.HTML(sizing_mode="stretch_width")
        self._reasons = pn.pane.HTML(sizing_mode="stretch_width")
        self._profile = pn.pane.HTML(sizing_mode="stretch_width")
        self._recourse = RecourseBlock(source, tr, for_client=True)
        self._content = pn.Column(
            self._summary, self._gauge, self._reasons,
            heading(tr._("The information we used")), self._profile,
            pn.pane.HTML(f"<p style='color:{MUTED_TEXT}'>{html.escape(tr._(CORRECTIONS))}</p>",
                         sizing_mode="stretch_width"),
            sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        tr = self.tr
        if self.client_id is None:
            return message(tr._("This link does not name a client file."))
        cid = self.client_id
        score = self._source.score(cid)
        explanation = self._source.explanation(cid)
        record = self._source.client(cid)
        bands = as_frame(self._source.portfolio().bands)
        self._gauge.object = gauge_html(score.score, score.score_cutoff, bands, tr)
        self._reasons.object = reasons_html(explanation, tr, for_client=True) + \
            self._recourse.html(score, record.population)
        self._profile.object = profile_html(record, tr)
        if self.contest_box is not None:
            self.contest_box.show(cid)
        self._summary.object = self_summary_html(score, tr)
        return self._content if self.contest_box is None else pn.Column(
            self._content, self.contest_box.view, sizing_mode="stretch_width")


CORRECTIONS = N_("If something here is wrong or out of date, tell your advisor: the decision "
                 "will be reviewed on the corrected information.")
SCORE_MEANING = N_("The score estimates how likely a credit is to be repaid without "
                   "difficulty: the higher, the better. It is calculated from the information "
                   "below and your credit history with us and other lenders.")


def self_summary_html(score: ClientScore, tr: Texts) -> str:
    """The decision told to the client, in plain words."""
    cutoff = round(score.score_cutoff)
    if score.decision == "grant":
        headline = tr._("Your credit application is accepted.")
        margin = round(score.score - cutoff)
        detail = tr.ngettext("Your score is {score} points. Applications above {cutoff} points "
                             "are accepted, so yours is {margin} point clear.",
                             "Your score is {score} points. Applications above {cutoff} points "
                             "are accepted, so yours is {margin} points clear.", margin,
                             score=tr.number(score.score), cutoff=tr.number(cutoff),
                             margin=tr.number(margin))
    else:
        headline = tr._("Your credit application could not be accepted as it stands.")
        short = round(cutoff + 1 - score.score)
        detail = tr.ngettext("Your score is {score} points. Applications need more than "
                             "{cutoff} points; yours is {short} point short.",
                             "Your score is {score} points. Applications need more than "
                             "{cutoff} points; yours is {short} points short.", short,
                             score=tr.number(score.score), cutoff=tr.number(cutoff),
                             short=tr.number(short))
    title = tr._("Your application {id}", id=score.sk_id_curr)
    return (STYLE + f"<div data-testid='client-summary' data-client='{score.sk_id_curr}' "
            f"data-decision='{html.escape(score.decision)}' style='color:{TEXT}'>"
            f"<h2 style='margin:0 0 6px 0'>{html.escape(title)} "
            f"{badge(score.decision, tr)}</h2><p style='font-size:1.15em'>"
            f"<b>{html.escape(headline)}</b> {html.escape(detail)}</p>"
            f"<p class='pad-muted'>{html.escape(tr._(SCORE_MEANING))}</p></div>")
