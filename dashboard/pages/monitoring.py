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
from markupsafe import Markup

from dashboard.formatting import STYLE, heading, html_table, message
from dashboard.lookup import WarehouseUnavailable
from dashboard.pages.alert_texts import alert_html, monitoring_word
from dashboard.pages.base import Page
from dashboard.texts import N_, Texts

FLAG_WORDS = {"stable": N_("stable"), "watch": N_("watch (0.1–0.25)"), "act": N_("act (> 0.25)")}
SEVERITY_WORDS = {"critical": N_("critical"), "warning": N_("warning"), "info": N_("info")}
REFERENCES = {"training": N_("the champion's training population"),
              "previous_refresh": N_("the previous refresh")}
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
    return _read(warehouse, f"select raised_at, kind, severity, message, refresh_run_id, details "
                            f"from serving.alerts order by raised_at desc limit {int(limit)}")


def alerts_banner(source: Any, tr: Texts) -> list[pn.viewable.Viewable]:
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
    items = "".join(f"<li>{_alert_line(a, tr)}</li>" for a in alerts.itertuples())
    title = tr._("Monitoring alerts")
    intro = tr.nhtml("{title} — the most recent (Monitoring tab for details):",
                     "{title} — the {count} most recent (Monitoring tab for details):",
                     len(alerts), title=Markup("<b>{}</b>").format(title),
                     count=tr.number(len(alerts)))
    text = (f"<div data-testid='alerts-banner' role='status'>{intro}<ul style='margin:0'>"
            f"{items}</ul></div>")
    return [pn.pane.Alert(text, alert_type=SEVERITY_KIND.get(worst, "info"),
                          sizing_mode="stretch_width")]


def _alert_line(alert: Any, tr: Texts) -> Markup:
    # one template, so each language places its own punctuation (French: « ) : »)
    return tr.html("{kind} ({severity}, {raised_at}): {text}",
                   kind=Markup("<b>{}</b>").format(tr._(ALERT_KINDS.get(str(alert.kind),
                                                                         str(alert.kind)))),
                   severity=tr._(SEVERITY_WORDS.get(str(alert.severity), "info")),
                   raised_at=_utc(alert.raised_at, tr),
                   text=Markup(alert_html(str(alert.kind), str(alert.message), alert.details, tr)))


def drift_trend(drift: pd.DataFrame, reference: str, tr: Texts) -> hv.Overlay:
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
        title=tr._("PSI per refresh against {reference}",
                   reference=tr._(REFERENCES.get(reference, reference))),
        xlabel=tr._("refresh"), ylabel="PSI", height=320, responsive=True,
        legend_position="right", toolbar=None)


class MonitoringPage(Page):
    """Drift over time, the latest drift flags, fairness and back-test tables."""

    def __init__(self, source: Any, tr: Texts, **params: Any) -> None:
        super().__init__(source, tr, **params)
        self.reference = pn.widgets.Select(
            name=tr._("Drift reference population"), options={
                tr._(label): code for code, label in REFERENCES.items()}, value="training",
            width=320)
        self.reference.param.watch(lambda e: self._rerender(), "value")

    def state(self) -> tuple[Any, ...]:
        return ("monitoring", self.reference.value)

    def _rerender(self) -> None:
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        # the selector stays outside the re-rendered body, so changing it never re-parents it
        return pn.Column(self.reference, self._body, sizing_mode="stretch_width")

    def render(self) -> pn.viewable.Viewable:
        tr = self.tr
        warehouse = getattr(self._source, "warehouse", None)
        if warehouse is None:
            return message(tr._("Monitoring reads the published warehouse in-process: it is "
                                "not available through --api."), "info")
        warehouse = Path(warehouse)
        drift = _read(warehouse, "select * from serving.drift")
        fairness = _read(warehouse, "select * exclude (model_version) from serving.fairness")
        backtest = _read(warehouse, "select * exclude (refresh_run_id) from serving.backtest")
        parts: list[Any] = [pn.pane.HTML(
            STYLE + f"<h2 style='margin:0'>{html.escape(tr._('Model monitoring'))}</h2>"
            f"<p class='pad-muted'>{html.escape(tr._(INTRO))}</p>", sizing_mode="stretch_width")]
        if drift.empty:
            parts.append(message(tr._("No drift measured yet."), "info"))
        else:
            reference = self.reference.value
            latest = drift[drift["refresh_run_id"] == drift["refresh_run_id"].max()]
            latest = latest[latest["reference"] == reference].sort_values("feature_rank")
            latest_title = tr._("Latest refresh ({run})", run=str(latest["refresh_run_id"].max()))
            parts += [pn.pane.HoloViews(drift_trend(drift, reference, tr), linked_axes=False,
                                        sizing_mode="stretch_width"),
                      pn.pane.HTML(f"<h3 data-testid='drift-heading' data-reference="
                                   f"'{reference}'>{html.escape(latest_title)}</h3>",
                                   sizing_mode="stretch_width"),
                      html_table(drift_table(latest, tr), "drift-latest")]
        parts.append(heading(tr._("Fairness (out-of-fold decisions)")))
        parts.append(html_table(localised(fairness, 3, tr), "fairness-table") if len(fairness)
                     else message(tr._("No fairness report yet."), "info"))
        parts.append(heading(tr._("Back-test per risk band (Jeffreys test)")))
        parts.append(html_table(localised(backtest, 4, tr), "backtest-table") if len(backtest)
                     else message(tr._("No outcomes have arrived yet for clients scored while "
                                       "pending."), "info"))
        return pn.Column(*parts, sizing_mode="stretch_width")


INTRO = N_("Population stability index (PSI: < 0.1 stable, 0.1–0.25 watch, > 0.25 act), "
           "fairness and calibration back-test. Figures about history clients are "
           "out-of-fold.")
DRIFT_COLUMNS = {"feature_rank": N_("rank"), "feature_name": N_("feature"), "psi": "PSI",
                 "flag": N_("flag"), "reference_clients": N_("reference clients"),
                 "current_clients": N_("current clients")}


def _utc(moment: Any, tr: Texts) -> str:
    stamp = pd.Timestamp(moment)
    return tr.datetime((stamp if stamp.tzinfo else stamp.tz_localize("UTC")).to_pydatetime())


def drift_table(latest: pd.DataFrame, tr: Texts) -> pd.DataFrame:
    """The latest refresh's drift per feature, flags in words."""
    shown = latest.assign(psi=[tr.number(v, 3) for v in latest["psi"]],
                          flag=[tr._(FLAG_WORDS.get(f, f)) for f in latest["flag"]],
                          reference_clients=[tr.number(v) for v in latest["reference_clients"]],
                          current_clients=[tr.number(v) for v in latest["current_clients"]])
    return shown[list(DRIFT_COLUMNS)].rename(
        columns={k: tr._(v) if v != "PSI" else v for k, v in DRIFT_COLUMNS.items()})


def localised(frame: pd.DataFrame, decimals: int, tr: Texts) -> pd.DataFrame:
    """A monitoring table as published, headers, codes and numbers in the reader's words."""
    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "—"
        if isinstance(value, pd.Timestamp):
            return _utc(value, tr)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return tr.number(value, 0 if float(value).is_integer() else decimals)
        return monitoring_word(str(value), tr)

    shown = frame.map(cell)
    shown.columns = [tr._(MONITORING_COLUMNS.get(c, c)) for c in frame.columns]
    return shown


ALERT_KINDS = {"refresh_failed": N_("refresh failed"), "monitoring_failed": N_("monitoring failed"),
               "drift": N_("drift"),
               "fairness": N_("fairness"), "backtest": N_("back-test"),
               "decision_chain": N_("decision record"), "stale": N_("stale data")}
MONITORING_COLUMNS = {
    "attribute": N_("attribute"), "group": N_("group"), "clients": N_("clients"),
    "refusal_rate": N_("refusal rate"), "default_rate_granted": N_("default rate (granted)"),
    "tpr": N_("true positive rate"), "fpr": N_("false positive rate"), "auc": "AUC",
    "grant_rate_ratio": N_("grant rate ratio"),
    "demographic_parity_ratio": N_("demographic parity ratio"),
    "equalized_odds_difference": N_("equalized odds difference"), "flag": N_("flag"),
    "model_version": N_("model"), "as_of": N_("as of (UTC)"), "risk_band": N_("band"),
    "defaults": N_("defaults"), "predicted_rate": N_("predicted rate"),
    "observed_rate": N_("observed rate"), "jeffreys_p": N_("Jeffreys p-value")}


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("Model monitoring"))
