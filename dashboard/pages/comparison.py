"""The comparison page: the client against all, similar or same-outcome clients, one feature
(histogram) or two (scatter), and its most similar clients."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn
import param

from dashboard import plots
from dashboard.formatting import as_frame, chart_pane, heading, html_table, message
from dashboard.lookup import WarehouseUnavailable
from dashboard.pages.base import Page
from dashboard.source import DataSource
from dashboard.texts import ENGLISH, N_, Texts
from dashboard.theme import TEXT
from models_ml.families import feature_label

SCATTER_INTRO = N_("A fixed sample of clients; circles repaid, triangles had difficulties, "
                   "squares are pending; the star is this client.")
# the groups as the position sentence names them ("higher than about 40 % of …")
GROUP_PHRASES = {"all": N_("all clients"), "outcome_0": N_("the clients who repaid"),
                 "outcome_1": N_("the clients who had difficulties"),
                 "pending": N_("the pending applications"),
                 "similar": N_("the 50 most similar clients")}


class ComparisonPage(Page):
    """The client against all, similar or same-outcome clients, one or two features."""

    feature = param.String(default="", doc="feature of the histogram")
    group = param.Selector(default="all", objects=["all", "similar", "outcome"])
    x_feature = param.String(default="", doc="horizontal feature of the scatter")
    y_feature = param.String(default="", doc="vertical feature of the scatter")

    def __init__(self, source: DataSource, tr: Texts, **params: Any) -> None:
        super().__init__(source, tr, **params)
        self._feature_select = pn.widgets.Select(name=tr._("Feature"), width=320)
        self._group_select = pn.widgets.RadioButtonGroup(
            name=tr._("Compare with"), options={
                tr._("All clients"): "all", tr._("Similar clients"): "similar",
                tr._("Same outcome (repaid / difficulties)"): "outcome"},
            value="all", button_type="primary", button_style="outline")
        self._x_select = pn.widgets.Select(name=tr._("Horizontal axis"), width=300)
        self._y_select = pn.widgets.Select(name=tr._("Vertical axis"), width=300)
        for widget, name in ((self._feature_select, "feature"), (self._group_select, "group"),
                             (self._x_select, "x_feature"), (self._y_select, "y_feature")):
            widget.link(self, value=name)

    def state(self) -> tuple[Any, ...]:
        return (self.client_id, self.feature, self.group, self.x_feature, self.y_feature)

    @param.depends("feature", "group", "x_feature", "y_feature", watch=True)
    def _controls_changed(self) -> None:
        self.refresh()

    def _load_features(self) -> None:
        if self._feature_select.options:
            return
        options = {f"{self._label(f)} ({f.feature_name})": f.feature_name
                   for f in self._source.features().items}
        if not options:
            raise WarehouseUnavailable("no comparable features published "
                                       "(serving.client_feature_values)")
        names = list(options.values())
        # defaults: the most important features; set quietly, the render below uses them
        with param.parameterized.discard_events(self):
            for select in (self._feature_select, self._x_select, self._y_select):
                select.options = options
            self.feature = self._feature_select.value = names[0]
            self.x_feature = self._x_select.value = names[0]
            self.y_feature = self._y_select.value = names[1 if len(names) > 1 else 0]

    def _label(self, feature: Any) -> str:
        return feature_label(feature.feature_name, self.tr.lang, feature.feature_label)

    def render(self) -> pn.viewable.Viewable:
        tr = self.tr
        if self.client_id is None:
            return message(tr._("Pick a client first (search above)."))
        self._load_features()
        cid = self.client_id
        comparison = self._source.comparison(cid, self.feature, self.group)
        bins = as_frame(comparison.bins)
        histogram = plots.comparison_histogram(bins, comparison.client_value,
                                               self._label(comparison), tr)
        scatter = self._source.scatter(cid, self.x_feature, self.y_feature)
        similar = self._source.similar(cid, 10)
        similar_frame = pd.DataFrame([{
            tr._("client"): s.sk_id_curr, tr._("distance"): tr.number(s.distance, 3),
            tr._("outcome"): tr._({0: "Repaid", 1: "Had difficulties"}.get(s.target,
                                                                            "Pending")),
            tr._("score"): "—" if s.score is None else tr.number(s.score),
            tr._("decision"): tr.decision(s.decision)} for s in similar.items])
        return pn.Column(
            pn.Row(self._feature_select, self._group_select),
            pn.pane.HTML(f"<p data-testid='comparison-summary' style='color:{TEXT}'>"
                         f"{html.escape(position_sentence(bins, comparison.client_value, tr))}"
                         f"</p>",
                         sizing_mode="stretch_width"),
            chart_pane(histogram, sizing_mode="stretch_width"),
            heading(tr._("Two features at once"), tr._(SCATTER_INTRO)),
            pn.Row(self._x_select, self._y_select),
            chart_pane(plots.feature_scatter(
                as_frame(scatter.points), scatter.client.x, scatter.client.y,
                self._label(scatter.x_feature), self._label(scatter.y_feature), tr),
                sizing_mode="stretch_width"),
            heading(tr._("The 10 most similar clients with a known outcome")),
            html_table(similar_frame, "similar-clients") if len(similar_frame) else
            message(tr._("No similar clients published for this client.")),
            sizing_mode="stretch_width")


def position_sentence(bins: pd.DataFrame, value: float | None, tr: Texts = ENGLISH) -> str:
    """Where the client's value sits in each group, from the histogram bins."""
    if value is None:
        return tr._("This client has no value for this feature (missing).")
    parts = []
    for group, frame in bins.groupby("group", sort=False):
        total = frame["clients"].sum()
        if total == 0:
            continue
        below = float(frame.loc[frame["bin_high"] <= value, "clients"].sum())
        inside = frame[(frame["bin_low"] <= value) & (frame["bin_high"] > value)]
        # within its bin, clients are assumed spread evenly
        width = (inside["bin_high"] - inside["bin_low"]).clip(lower=1e-12)
        below += float((inside["clients"] * (value - inside["bin_low"]) / width).sum())
        parts.append(tr._("higher than about {share} of {group}",
                          share=tr.percent(below / total, 0),
                          group=tr._(GROUP_PHRASES.get(str(group), str(group)))))
    return tr._("This client's value {value} is {positions}.", value=tr.fmt_number(value),
                positions="; ".join(parts))


