"""The portfolio page: score and decision distributions of all clients, by risk band."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard import plots
from dashboard.formatting import as_frame, chart_pane, html_table
from dashboard.pages.base import Page
from dashboard.theme import TEXT


class PortfolioPage(Page):
    """Score and decision distributions of the whole portfolio, by risk band."""

    def state(self) -> tuple[Any, ...]:
        return ("portfolio",)

    def render(self) -> pn.viewable.Viewable:
        portfolio = self._source.portfolio()
        decisions = as_frame(portfolio.decisions)
        granted = int(decisions.loc[decisions["decision"] == "grant", "clients"].sum()) \
            if len(decisions) else 0
        bands = as_frame(portfolio.bands)
        by_population = decisions.pivot_table(index="population", columns="decision",
                                              values="clients", aggfunc="sum",
                                              fill_value=0).reset_index() \
            if len(decisions) else pd.DataFrame()
        band_table = bands.assign(
            scores=lambda f: f["min_score"].astype(str) + "–" + f["max_score"].astype(str),
            mean_probability=lambda f: (f["mean_probability"] * 100).round(1).astype(str) + " %",
            default_rate=lambda f: f["default_rate"].map(
                lambda v: "—" if pd.isna(v) else f"{v:.1%}"),
        )[["risk_band", "clients", "scores", "mean_probability", "history_clients",
           "default_rate"]].rename(columns={
            "risk_band": "band", "scores": "score range",
            "mean_probability": "mean predicted probability",
            "history_clients": "clients with known outcome (out-of-fold band)",
            "default_rate": "observed difficulties (out-of-fold)"}) \
            if len(bands) else pd.DataFrame()
        share = granted / portfolio.clients if portfolio.clients else 0.0
        return pn.Column(
            pn.pane.HTML(f"<div data-testid='portfolio-summary' style='color:{TEXT};"
                         f"font-size:1.15em'><b>{portfolio.clients:,}</b> clients scored by "
                         f"model {html.escape(portfolio.model_version or '—')}: "
                         f"<b>{share:.1%}</b> granted, <b>{1 - share:.1%}</b> refused "
                         f"(cutoff {portfolio.score_cutoff or 0:.0f} points).</div>",
                         sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.score_distribution(
                as_frame(portfolio.score_histogram), portfolio.score_cutoff),
                sizing_mode="stretch_width"),
                chart_pane(plots.band_bars(bands), sizing_mode="stretch_width"),
                sizing_mode="stretch_width"),
            pn.pane.Markdown("### Risk bands"), html_table(band_table, "band-table"),
            pn.pane.Markdown("### Decisions by population (history = known outcome, "
                             "pending = new applications)"),
            html_table(by_population, "decision-table"),
            sizing_mode="stretch_width")


