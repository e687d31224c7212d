"""The Monitoring page and the alerts banner (CONTRACTS §8): drift over time, the latest
refresh's drift flags, the fairness report, the back-test per band, and recent alerts.

Reads the published warehouse read-only (serving.drift, fairness, backtest, alerts), like the
lookup layer; with `pad dashboard --api URL` there is no local warehouse and the page says so.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import duckdb
import holoviews as hv
import pandas as pd
import panel as pn

from dashboard.formatting import STYLE, html_table, message
from dashboard.lookup import WarehouseUnavailable
from dashboard.pages.base import Page

FLAG_WORDS = {"stable": "stable", "watch": "watch (0.1–0.25)", "act": "act (> 0.25)"}
SEVERITY_KIND = {"critical": "danger", "warning": "warning", "info": "info"}
RECENT_ALERTS = 5


def _read(warehouse: Path, sql: str) -> pd.DataFrame:
    if not warehouse.is_file():
        raise WarehouseUnavailable(f"{warehouse} has not been published yet")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    except duckdb.CatalogException as exc:  # a warehouse published before monitoring existed
        raise WarehouseUnavailable(f"no monitoring tables in {warehouse.name}") from exc
    finally:
        con.close()


def recent_alerts(warehouse: Path, limit: int = RECENT_ALERTS) -> pd.DataFrame:
    return _read(warehouse, f"select raised_at, kind, severity, message, refresh_run_id "
                            f"from serving.alerts order by raised_at desc limit {int(limit)}")


def alerts_banner(source: Any) -> list[pn.viewable.Viewable]:
    """One line per recent alert, most serious first, on top of every advisor page."""
    warehouse = getattr(source, "warehouse", None)
    if warehouse is None:
        return []
    try:
        alerts = recent_alerts(Path(warehouse))
    except (WarehouseUnavailable, duckdb.Error):
        return []
    if alerts.empty:
        return []
    worst = next(s for s in ("critical", "warning", "info") if s in set(alerts["severity"])
                 ) if set(alerts["severity"]) & set(SEVERITY_KIND) else "info"
    items = "".join(f"<li><b>{html.escape(str(a.kind))}</b> "
                    f"({html.escape(str(a.severity))}, {a.raised_at:%Y-%m-%d %H:%M} UTC): "
                    f"{html.escape(str(a.message))}</li>" for a in alerts.itertuples())
    text = (f"<div data-testid='alerts-banner' role='status'><b>Monitoring alerts</b> — the "
            f"{len(alerts)} most recent (Monitoring tab for details):<ul style='margin:0'>"
            f"{items}</ul></div>")
    return [pn.pane.Alert(text, alert_type=SEVERITY_KIND.get(worst, "info"),
                          sizing_mode="stretch_width")]


def drift_trend(drift: pd.DataFrame, reference: str) -> hv.Overlay:
    """PSI per refresh of the score and the features flagged at least once, with the 0.1 and
    0.25 reading lines."""
    rows = drift[drift["reference"] == reference]
    ever = set(rows.loc[rows["flag"] != "stable", "feature_name"]) | {"score"}
    rows = rows[rows["feature_name"].isin(ever)].sort_values("computed_at")
    curves = [hv.Curve(g, "computed_at", "psi", label=name).opts(tools=["hover"])
              * hv.Scatter(g, "computed_at", "psi", label=name).opts(size=6)
              for name, g in rows.groupby("feature_name")]
    lines = hv.HLine(0.1).opts(color="#b58900", line_dash="dashed") * \
        hv.HLine(0.25).opts(color="#dc322f", line_dash="dashed")
    return hv.Overlay([*curves, lines]).opts(
        title=f"PSI per refresh against the {reference.replace('_', ' ')} population",
        xlabel="refresh", ylabel="PSI", height=320, responsive=True, legend_position="right")


class MonitoringPage(Page):
    """Drift over time, the latest drift flags, fairness and back-test tables."""

    def __init__(self, source: Any, **params: Any) -> None:
        super().__init__(source, **params)
        self.reference = pn.widgets.Select(
            name="Drift reference population", options={
                "champion's training population": "training",
                "previous refresh": "previous_refresh"}, value="training", width=320)
        self.reference.param.watch(lambda e: self._rerender(), "value")

    def state(self) -> tuple[Any, ...]:
        return ("monitoring", self.reference.value)

    def _rerender(self) -> None:
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        # the selector stays outside the re-rendered body, so changing it never re-parents it
        return pn.Column(self.reference, self._body, sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        warehouse = getattr(self._source, "warehouse", None)
        if warehouse is None:
            return message("Monitoring reads the published warehouse in-process: it is not "
                           "available through --api.", "info")
        warehouse = Path(warehouse)
        drift = _read(warehouse, "select * from serving.drift")
        fairness = _read(warehouse, "select * exclude (model_version) from serving.fairness")
        backtest = _read(warehouse, "select * exclude (refresh_run_id) from serving.backtest")
        parts: list[Any] = [pn.pane.HTML(
            STYLE + "<h2 style='margin:0'>Model monitoring</h2><p class='pad-muted'>Population "
            "stability index (PSI: &lt; 0.1 stable, 0.1–0.25 watch, &gt; 0.25 act), fairness "
            "and calibration back-test. Figures about history clients are out-of-fold.</p>",
            sizing_mode="stretch_width")]
        if drift.empty:
            parts.append(message("No drift measured yet.", "info"))
        else:
            reference = self.reference.value
            latest = drift[drift["refresh_run_id"] == drift["refresh_run_id"].max()]
            latest = latest[latest["reference"] == reference].sort_values("feature_rank")
            parts += [pn.pane.HoloViews(drift_trend(drift, reference), linked_axes=False,
                                        sizing_mode="stretch_width"),
                      pn.pane.HTML(f"<h3 data-testid='drift-heading' data-reference="
                                   f"'{reference}'>Latest refresh "
                                   f"({html.escape(str(latest['refresh_run_id'].max()))})</h3>",
                                   sizing_mode="stretch_width"),
                      html_table(latest.assign(psi=latest["psi"].round(3),
                                               flag=latest["flag"].map(FLAG_WORDS))[
                          ["feature_rank", "feature_name", "psi", "flag", "reference_clients",
                           "current_clients"]].rename(columns={"feature_rank": "rank"}),
                          "drift-latest")]
        parts.append(pn.pane.Markdown("### Fairness (out-of-fold decisions)"))
        parts.append(html_table(fairness.round(3), "fairness-table") if len(fairness)
                     else message("No fairness report yet.", "info"))
        parts.append(pn.pane.Markdown("### Back-test per risk band (Jeffreys test)"))
        parts.append(html_table(backtest.round(4).astype(str), "backtest-table") if len(backtest)
                     else message("No outcomes have arrived yet for clients scored while "
                                  "pending.", "info"))
        return pn.Column(*parts, sizing_mode="stretch_width")
