"""The portfolio page: score and decision distributions of all clients, by risk band."""
from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
from markupsafe import Markup

from dashboard import plots
from dashboard.formatting import as_frame, chart_pane, heading, html_table
from dashboard.pages.base import Page
from dashboard.texts import N_, Texts
from dashboard.theme import TEXT

POPULATIONS = {"history": N_("history"), "pending": N_("pending")}


class PortfolioPage(Page):
    """Score and decision distributions of the whole portfolio, by risk band."""

    def state(self) -> tuple[Any, ...]:
        return ("portfolio",)

    def render(self) -> pn.viewable.Viewable:
        tr = self.tr
        portfolio = self._source.portfolio()
        decisions = as_frame(portfolio.decisions)
        granted = int(decisions.loc[decisions["decision"] == "grant", "clients"].sum()) \
            if len(decisions) else 0
        bands = as_frame(portfolio.bands)
        share = granted / portfolio.clients if portfolio.clients else 0.0
        summary = tr.html(
            "{clients} clients scored by model {model}: {granted} granted, {refused} refused "
            "(cutoff {cutoff} points).", clients=_bold(tr.number(portfolio.clients)),
            model=portfolio.model_version or "—", granted=_bold(tr.percent(share)),
            refused=_bold(tr.percent(1 - share)), cutoff=tr.number(portfolio.score_cutoff or 0))
        return pn.Column(
            pn.pane.HTML(f"<div data-testid='portfolio-summary' style='color:{TEXT};"
                         f"font-size:1.15em'>{summary}</div>", sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.score_distribution(
                as_frame(portfolio.score_histogram), portfolio.score_cutoff, tr),
                sizing_mode="stretch_width"),
                chart_pane(plots.band_bars(bands, tr), sizing_mode="stretch_width"),
                sizing_mode="stretch_width"),
            heading(tr._("Risk bands")), html_table(band_table(bands, tr), "band-table"),
            heading(tr._("Decisions by population (history = known outcome, pending = new "
                         "applications)")),
            html_table(population_table(decisions, tr), "decision-table"),
            sizing_mode="stretch_width")


def _bold(text: str) -> Markup:
    return Markup("<b>{}</b>").format(text)


def band_table(bands: pd.DataFrame, tr: Texts) -> pd.DataFrame:
    """One row per risk band, headers and numbers in the reader's language."""
    if not len(bands):
        return pd.DataFrame()
    return pd.DataFrame({
        tr._("band"): bands["risk_band"],
        tr._("clients"): [tr.number(c) for c in bands["clients"]],
        tr._("score range"): [f"{tr.number(lo)}–{tr.number(hi)}"
                              for lo, hi in zip(bands["min_score"], bands["max_score"],
                                                strict=True)],
        tr._("mean predicted probability"): [tr.percent(p) for p in bands["mean_probability"]],
        tr._("clients with known outcome (out-of-fold band)"): [
            tr.number(c) for c in bands["history_clients"]],
        tr._("observed difficulties (out-of-fold)"): [
            "—" if pd.isna(r) else tr.percent(r) for r in bands["default_rate"]]})


def population_table(decisions: pd.DataFrame, tr: Texts) -> pd.DataFrame:
    """Clients per population (rows) and decision (columns)."""
    if not len(decisions):
        return pd.DataFrame()
    table = decisions.pivot_table(index="population", columns="decision", values="clients",
                                  aggfunc="sum", fill_value=0)
    return pd.DataFrame({tr._("population"): [tr._(POPULATIONS.get(p, p)) for p in table.index],
                         **{tr.decision(d): [tr.number(v) for v in table[d]]
                            for d in table.columns}})
