"""The comparison page: the client against all, similar or same-outcome clients, one feature
(histogram) or two (scatter), and its most similar clients."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn
import param

from dashboard import plots
from dashboard.formatting import as_frame, chart_pane, fmt_number, html_table, message
from dashboard.lookup import WarehouseUnavailable
from dashboard.pages.base import Page
from dashboard.source import DataSource
from dashboard.theme import DECISION_WORDS, GROUP_LABELS, TEXT


class ComparisonPage(Page):
    """The client against all, similar or same-outcome clients, one or two features."""

    feature = param.String(default="", doc="feature of the histogram")
    group = param.Selector(default="all", objects=["all", "similar", "outcome"])
    x_feature = param.String(default="", doc="horizontal feature of the scatter")
    y_feature = param.String(default="", doc="vertical feature of the scatter")

    def __init__(self, source: DataSource, **params: Any) -> None:
        super().__init__(source, **params)
        self._feature_select = pn.widgets.Select(name="Feature", width=320)
        self._group_select = pn.widgets.RadioButtonGroup(
            name="Compare with", options={"All clients": "all", "Similar clients": "similar",
                                          "Same outcome (repaid / difficulties)": "outcome"},
            value="all", button_type="primary", button_style="outline")
        self._x_select = pn.widgets.Select(name="Horizontal axis", width=300)
        self._y_select = pn.widgets.Select(name="Vertical axis", width=300)
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
        options = {f"{f.feature_label} ({f.feature_name})": f.feature_name
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

    def render(self) -> pn.viewable.Viewable:
        if self.client_id is None:
            return message("Pick a client first (search above).")
        self._load_features()
        cid = self.client_id
        comparison = self._source.comparison(cid, self.feature, self.group)
        bins = as_frame(comparison.bins)
        histogram = plots.comparison_histogram(bins, comparison.client_value,
                                               comparison.feature_label)
        scatter = self._source.scatter(cid, self.x_feature, self.y_feature)
        similar = self._source.similar(cid, 10)
        similar_frame = pd.DataFrame([{
            "client": s.sk_id_curr, "distance": f"{s.distance:.3f}",
            "outcome": {0: "repaid", 1: "had difficulties"}.get(s.target, "pending"),
            "score": s.score, "decision": DECISION_WORDS.get(s.decision or "", "—")}
            for s in similar.items])
        return pn.Column(
            pn.Row(self._feature_select, self._group_select),
            pn.pane.HTML(f"<p data-testid='comparison-summary' style='color:{TEXT}'>"
                         f"{html.escape(position_sentence(bins, comparison.client_value))}</p>",
                         sizing_mode="stretch_width"),
            chart_pane(histogram, sizing_mode="stretch_width"),
            pn.pane.Markdown("### Two features at once\nA fixed sample of clients; circles "
                             "repaid, triangles had difficulties, squares are pending; the "
                             "star is this client."),
            pn.Row(self._x_select, self._y_select),
            chart_pane(plots.feature_scatter(
                as_frame(scatter.points), scatter.client.x, scatter.client.y,
                scatter.x_feature.feature_label, scatter.y_feature.feature_label),
                sizing_mode="stretch_width"),
            pn.pane.Markdown("### The 10 most similar clients with a known outcome"),
            html_table(similar_frame, "similar-clients") if len(similar_frame) else
            message("No similar clients published for this client."),
            sizing_mode="stretch_width")


def position_sentence(bins: pd.DataFrame, value: float | None) -> str:
    """Where the client's value sits in each group, from the histogram bins."""
    if value is None:
        return "This client has no value for this feature (missing)."
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
        parts.append(f"higher than about {below / total:.0%} of "
                     f"{GROUP_LABELS.get(str(group), str(group)).lower()}")
    return f"This client's value {fmt_number(value)} is " + "; ".join(parts) + "."


