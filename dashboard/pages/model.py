"""The model page: the champion's metrics, ROC, calibration, cost vs threshold, importance,
registered models and the latest refresh runs."""
from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn

from dashboard import plots
from dashboard.formatting import STYLE, as_frame, chart_pane, html_table
from dashboard.pages.base import Page
from dashboard.theme import TEXT


class ModelPage(Page):
    """Metrics, ROC, calibration, cost vs threshold, importance and run history."""

    def state(self) -> tuple[Any, ...]:
        return ("model",)

    def render(self) -> pn.viewable.Viewable:
        model = self._source.model()
        curves = as_frame(self._source.model_curves().points)
        runs = as_frame(self._source.model_runs().items)
        refreshes = pd.DataFrame(self._source.refresh_runs(10).items)

        def curve(name: str) -> pd.DataFrame:
            if curves.empty:
                return pd.DataFrame({"x": [], "y": []})
            return curves[curves["curve"] == name]

        metrics = [("OOF ROC AUC", model.oof_auc, "{:.3f}"),
                   ("Fold AUC", model.fold_auc_mean, "{:.3f}"),
                   ("± (std)", model.fold_auc_std, "{:.3f}"), ("Brier", model.brier, "{:.4f}"),
                   ("Log loss", model.log_loss, "{:.4f}"), ("KS", model.ks, "{:.3f}"),
                   ("Threshold", model.threshold, "{:.3f}"),
                   ("Cutoff (points)", model.score_scaling.score_cutoff, "{:.0f}"),
                   ("Expected cost", model.expected_cost, "{:.3f}"),
                   ("Training clients", model.n_train, "{:,}"),
                   ("Features", model.n_features, "{:,}")]
        cells = "".join(f"<section class='pad-card' style='flex:0 1 150px'><div "
                        f"class='pad-muted'>{html.escape(label)}</div><div style='font-size:"
                        f"1.3em;font-weight:700'>{'—' if value is None else fmt.format(value)}"
                        f"</div></section>" for label, value, fmt in metrics)
        scaling = model.score_scaling
        run_table = runs[["model_version", "trained_at", "is_champion", "oof_auc", "brier",
                          "threshold", "n_train", "n_features"]].round(
            {"oof_auc": 4, "brier": 4, "threshold": 4}).rename(
            columns={"is_champion": "champion", "oof_auc": "OOF AUC"}) if len(runs) else runs
        parts: list[Any] = [
            pn.pane.HTML(STYLE + f"<div data-testid='model-summary' style='color:{TEXT}'>"
                         f"<h2 style='margin:0'>Champion model "
                         f"{html.escape(model.model_version)}</h2><p class='pad-muted'>"
                         f"score = {scaling.offset:.1f} + {scaling.factor:.2f} · ln(odds of "
                         f"repayment): {scaling.pdo:.0f} points double the odds. Metrics are "
                         f"out-of-fold.</p><div style='display:flex;flex-wrap:wrap;gap:8px'>"
                         f"{cells}</div></div>", sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.roc_plot(curve("roc"), model.oof_auc),
                              sizing_mode="stretch_width"),
                   chart_pane(plots.calibration_plot(curve("calibration")),
                              sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.Row(chart_pane(plots.cost_plot(curve("cost"), model.threshold),
                              sizing_mode="stretch_width"),
                   chart_pane(plots.importance_bars(as_frame(model.importance)),
                              sizing_mode="stretch_width"), sizing_mode="stretch_width"),
            pn.pane.Markdown("### Registered models"), html_table(run_table, "model-runs")]
        if len(refreshes):
            columns = [c for c in ("started_at", "status", "retrained", "model_version",
                                   "clients", "seconds_total", "message") if c in refreshes]
            parts += [pn.pane.Markdown("### Latest refresh runs"),
                      html_table(refreshes[columns].fillna(""), "refresh-runs")]
        return pn.Column(*parts, sizing_mode="stretch_width")


