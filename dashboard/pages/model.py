"""The model page: the champion's metrics, ROC, calibration, cost vs threshold, importance,
registered models and the latest refresh runs."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard import plots
from dashboard.formatting import STYLE, as_frame, chart_pane, heading, html_table
from dashboard.pages.base import Page
from dashboard.texts import N_, Texts
from dashboard.theme import TEXT


class ModelPage(Page):
    """Metrics, ROC, calibration, cost vs threshold, importance and run history."""

    def state(self) -> tuple[Any, ...]:
        return ("model",)

    def render(self) -> pn.viewable.Viewable:
        tr = self.tr
        model = self._source.model()
        curves = as_frame(self._source.model_curves().points)
        refreshes = pd.DataFrame(self._source.refresh_runs(10).items)

        def curve(name: str) -> pd.DataFrame:
            if curves.empty:
                return pd.DataFrame({"x": [], "y": []})
            return curves[curves["curve"] == name]

        scaling = model.score_scaling
        intro = tr._("score = {offset} + {factor} · ln(odds of repayment): {pdo} points double "
                     "the odds. Metrics are out-of-fold.", offset=tr.number(scaling.offset, 1),
                     factor=tr.number(scaling.factor, 2), pdo=tr.number(scaling.pdo))
        title = tr._("Champion model {version}", version=model.model_version)
        parts: list[Any] = [
            pn.pane.HTML(STYLE + f"<div data-testid='model-summary' style='color:{TEXT}'>"
                         f"<h2 style='margin:0'>{html.escape(title)}</h2><p class='pad-muted'>"
                         f"{html.escape(intro)}</p><div style='display:flex;flex-wrap:wrap;"
                         f"gap:8px'>{metric_cells(model, tr)}</div></div>",
                         sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.roc_plot(curve("roc"), model.oof_auc, tr),
                              sizing_mode="stretch_width"),
                   chart_pane(plots.calibration_plot(curve("calibration"), tr),
                              sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.cost_plot(curve("cost"), model.threshold, tr),
                              sizing_mode="stretch_width"),
                   chart_pane(plots.importance_bars(as_frame(model.importance), tr),
                              sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            heading(tr._("Registered models")),
            html_table(runs_table(as_frame(self._source.model_runs().items), tr), "model-runs")]
        if len(refreshes):
            parts += [heading(tr._("Latest refresh runs")),
                      html_table(refreshes_table(refreshes, tr), "refresh-runs")]
        return pn.Column(*parts, sizing_mode="stretch_width")


def metric_cells(model: Any, tr: Texts) -> str:
    """One card per metric of the champion."""
    metrics = [(N_("OOF ROC AUC"), model.oof_auc, 3), (N_("Fold AUC"), model.fold_auc_mean, 3),
               (N_("± (std)"), model.fold_auc_std, 3), (N_("Brier"), model.brier, 4),
               (N_("Log loss"), model.log_loss, 4), (N_("KS"), model.ks, 3),
               (N_("Threshold"), model.threshold, 3),
               (N_("Cutoff (points)"), model.score_scaling.score_cutoff, 0),
               (N_("Expected cost"), model.expected_cost, 3),
               (N_("Training clients"), model.n_train, 0), (N_("Features"), model.n_features, 0)]
    return "".join(f"<section class='pad-card' style='flex:0 1 150px'><div "
                   f"class='pad-muted'>{html.escape(tr._(label))}</div><div style='font-size:"
                   f"1.3em;font-weight:700'>"
                   f"{'—' if value is None else tr.number(value, decimals)}</div></section>"
                   for label, value, decimals in metrics)


def _when(value: Any, tr: Texts) -> str:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return "—"
    moment = pd.Timestamp(value)
    return tr.datetime((moment if moment.tzinfo else moment.tz_localize("UTC")).to_pydatetime())


def runs_table(runs: pd.DataFrame, tr: Texts) -> pd.DataFrame:
    """The registered models, newest first."""
    if not len(runs):
        return runs
    return pd.DataFrame({
        tr._("model"): runs["model_version"],
        tr._("trained at (UTC)"): [_when(v, tr) for v in runs["trained_at"]],
        tr._("champion"): [tr._("yes") if v else tr._("no") for v in runs["is_champion"]],
        tr._("OOF AUC"): [_number(v, 4, tr) for v in runs["oof_auc"]],
        tr._("Brier"): [_number(v, 4, tr) for v in runs["brier"]],
        tr._("Threshold"): [_number(v, 4, tr) for v in runs["threshold"]],
        tr._("Training clients"): [_number(v, 0, tr) for v in runs["n_train"]],
        tr._("Features"): [_number(v, 0, tr) for v in runs["n_features"]]})


def refreshes_table(refreshes: pd.DataFrame, tr: Texts) -> pd.DataFrame:
    """The latest refresh runs (their message stays as the run recorded it)."""
    columns = {"started_at": N_("started at (UTC)"), "status": N_("status"),
               "retrained": N_("retrained"), "model_version": N_("model"),
               "clients": N_("clients"), "seconds_total": N_("seconds"),
               "message": N_("message")}
    shown = {}
    for name, label in columns.items():
        if name not in refreshes:
            continue
        values = refreshes[name]
        if name == "started_at":
            values = [_when(v, tr) for v in values]
        elif name in ("status", "retrained"):
            values = ["—" if pd.isna(v) else tr._(str(v).lower()) for v in values]
        elif name in ("clients", "seconds_total"):
            values = [_number(v, 0 if name == "clients" else 1, tr) for v in values]
        else:
            values = ["" if pd.isna(v) else str(v) for v in values]
        shown[tr._(label)] = values
    return pd.DataFrame(shown)


def _number(value: Any, decimals: int, tr: Texts) -> str:
    return "—" if value is None or pd.isna(value) else tr.number(float(value), decimals)


# refresh statuses and flags as the run records write them
RUN_WORDS = (N_("success"), N_("failed"), N_("running"), N_("unchanged"), N_("true"),
             N_("false"))
