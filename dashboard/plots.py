"""The dashboard's charts: plain functions DataFrame (or numbers) → HoloViews (Bokeh backend).

No data access and no Panel here, so every chart can be built and checked from a DataFrame in a
test. The client page's gauge and waterfall are HTML (`dashboard.html_charts`): they change at
every client switch, where a Bokeh figure cost most of the switch. Colours come from
`dashboard.theme`, words from `dashboard.texts` (`tr`, English by default); each coloured mark
also carries text (labels, legend entries, signed point values), so no chart depends on colour
vision.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import holoviews as hv
import hvplot.pandas  # noqa: F401 — registers DataFrame.hvplot
import numpy as np
import pandas as pd
from bokeh.models import ContinuousAxis, CustomJSTickFormatter

from dashboard.texts import ENGLISH, GROUP_LABELS, OUTCOME_WORDS, Texts
from dashboard.theme import (
    BAND_COLOURS,
    BLUE,
    DECISION_COLOURS,
    GREY,
    GROUP_COLOURS,
    OUTCOME_COLOURS,
    OUTCOME_MARKERS,
    TEXT,
    VERMILLION,
)
from models_ml.families import feature_label

hv.renderer("bokeh")  # loads the Bokeh plotting backend (options below are Bokeh options)

COMMON = {"toolbar": None, "default_tools": [], "fontscale": 1.05}


def locale_ticks(lang: str) -> Callable[[Any, Any], None]:
    """A HoloViews hook: the numbers on every continuous axis written for `lang` by the
    browser's Intl.NumberFormat (0,3 and 1 000 in French), as Babel writes the page's other
    numbers; Bokeh's own tick labels are English whatever the page's language."""
    formatter = CustomJSTickFormatter(
        args={"lang": lang},
        code="return new Intl.NumberFormat(lang, {maximumFractionDigits: 4}).format(tick)")

    def hook(plot: Any, element: Any) -> None:
        for axis in plot.state.axis:
            if isinstance(axis, ContinuousAxis):
                axis.formatter = formatter
    return hook


def common(tr: Texts) -> dict[str, Any]:
    """The options every chart shares, its axes' numbers in the reader's language."""
    return {**COMMON, "hooks": [locale_ticks(tr.lang)]}


def band_limits(bands: pd.DataFrame) -> pd.DataFrame:
    """Score interval of each band (columns risk_band, low, high), boundaries halfway
    between neighbouring bands' observed scores, sorted from the lowest scores up."""
    ordered = bands.sort_values("min_score").reset_index(drop=True)
    lows = [float(ordered["min_score"].iloc[0]) - 0.5]
    for i in range(1, len(ordered)):
        lows.append((float(ordered["max_score"].iloc[i - 1]) + float(ordered["min_score"].iloc[i]))
                    / 2)
    highs = lows[1:] + [float(ordered["max_score"].iloc[-1]) + 0.5]
    return pd.DataFrame({"risk_band": ordered["risk_band"], "low": lows, "high": highs})


def waterfall_steps(drivers: pd.DataFrame, families: pd.DataFrame, tr: Texts = ENGLISH,
                    top: int = 8) -> pd.DataFrame:
    """Waterfall rows (label, points): the `top` largest contributions, then the rest summed
    (all contributions are the family sums, so the rows add up to score − base)."""
    chosen = drivers.reindex(drivers["points"].abs().sort_values(ascending=False).index).head(top)
    rest = float(families["points"].sum()) - float(chosen["points"].sum())
    steps = pd.DataFrame({"label": chosen["feature_label"].astype(str),
                          "points": chosen["points"].astype(float)})
    remaining = len(drivers) - len(chosen)
    label = tr._("All other features") if remaining or len(families) else tr._("Other features")
    return pd.concat([steps, pd.DataFrame({"label": [label], "points": [rest]})],
                     ignore_index=True)


def comparison_histogram(bins: pd.DataFrame, client_value: float | None,
                         feature_label: str, tr: Texts = ENGLISH) -> hv.Overlay:
    """Distribution(s) of a feature as shares of each group, the client's value marked."""
    layers = []
    share = tr._("share (%)")
    for group, frame in bins.groupby("group", sort=False):
        frame = frame.sort_values("bin_low")
        total = max(int(frame["clients"].sum()), 1)
        edges = np.append(frame["bin_low"].to_numpy(float), float(frame["bin_high"].iloc[-1]))
        shares = frame["clients"].to_numpy(float) / total * 100
        label = f"{tr._(GROUP_LABELS.get(str(group), str(group)))} ({tr.number(total)})"
        layers.append(hv.Histogram((edges, shares), kdims=feature_label, vdims=share,
                                   label=label).opts(
            color=GROUP_COLOURS.get(str(group), GREY), alpha=0.55, line_color="white"))
    if not layers:
        layers.append(hv.Histogram(([0.0, 1.0], [0.0]), kdims=feature_label, vdims=share))
    overlay = hv.Overlay(layers)
    if client_value is not None:
        overlay = overlay * hv.VLine(client_value).opts(color=TEXT, line_width=3) * hv.Text(
            client_value, 0, " " + tr._("this client: {value}",
                                        value=tr.significant(client_value)), halign="left",
            valign="bottom", fontsize=10).opts(color=TEXT)
    return overlay.opts(hv.opts.Overlay(height=320, responsive=True, legend_position="top_right",
                                        ylabel=tr._("share of the group (%)"), show_grid=True,
                                        **common(tr)))


def feature_scatter(points: pd.DataFrame, client_x: float | None, client_y: float | None,
                    x_label: str, y_label: str, tr: Texts = ENGLISH) -> hv.Overlay:
    """The sample of clients (shape and colour by outcome) with the client highlighted."""
    data = points.dropna(subset=["x", "y"])
    layers = []
    for group in ("repaid", "difficulties", "pending"):
        subset = data[data["group"] == group]
        if len(subset):
            layers.append(hv.Scatter(subset, kdims="x", vdims=["y"],
                                     label=f"{tr._(OUTCOME_WORDS[group])} "
                                           f"({tr.number(len(subset))})").opts(
                color=OUTCOME_COLOURS[group], marker=OUTCOME_MARKERS[group], size=5, alpha=0.5))
    if not layers:
        layers.append(hv.Scatter([], kdims="x", vdims=["y"]))
    overlay = hv.Overlay(layers)
    if client_x is not None and client_y is not None:
        overlay = overlay * hv.Scatter([(client_x, client_y)], label=tr._("This client")).opts(
            marker="star", size=24, color=TEXT, line_color="white") * hv.Text(
            client_x, client_y, "  " + tr._("this client"), halign="left",
            fontsize=11).opts(color=TEXT)
    return overlay.opts(hv.opts.Overlay(height=420, responsive=True, xlabel=x_label,
                                        ylabel=y_label, legend_position="top_right",
                                        show_grid=True, **common(tr)))


def score_distribution(histogram: pd.DataFrame, cutoff: float | None,
                       tr: Texts = ENGLISH) -> hv.Overlay:
    """Clients per score bin, coloured and named by decision, with the cutoff."""
    layers = []
    for decision, frame in histogram.groupby("decision", sort=True):
        frame = frame.sort_values("bin_low")
        # bins of one decision may skip values; draw each bin as its own rectangle
        layers.append(hv.Rectangles(
            [(r.bin_low, 0, r.bin_high, r.clients) for r in frame.itertuples()],
            label=f"{tr.decision(str(decision))} "
                  f"({tr.number(int(frame['clients'].sum()))})").opts(
            color=DECISION_COLOURS.get(str(decision), GREY), line_color="white"))
    overlay = hv.Overlay(layers)
    if cutoff is not None:
        overlay = overlay * hv.VLine(cutoff + 0.5).opts(color=TEXT, line_dash="dashed") * hv.Text(
            cutoff + 0.5, 0, " " + tr._("cutoff {points}", points=tr.number(cutoff)),
            halign="left", valign="bottom",
            fontsize=10).opts(color=TEXT)
    return overlay.opts(hv.opts.Overlay(height=320, responsive=True,
                                        xlabel=tr._("score (points)"),
                                        ylabel=tr._("clients"), legend_position="top_left",
                                        show_grid=True, **common(tr)))


def band_bars(bands: pd.DataFrame, tr: Texts = ENGLISH) -> hv.Overlay:
    """Clients per risk band, each bar labelled with its count and observed default rate."""
    frame = bands.sort_values("risk_band").copy()
    frame["colour"] = [BAND_COLOURS.get(b, GREY) for b in frame["risk_band"]]
    frame["band"] = [tr._("Band {band}", band=b) for b in frame["risk_band"].astype(str)]
    frame["text"] = [
        tr._("{clients} clients", clients=tr.number(c))
        + ("\n" + tr._("{share} had difficulties", share=tr.percent(r)) if pd.notna(r) else "")
        for c, r in zip(frame["clients"], frame["default_rate"], strict=True)]
    bars = hv.Bars(frame, kdims="band", vdims=["clients", "colour"]).opts(
        color="colour", line_color="white")
    labels = hv.Labels(frame, kdims=["band", "clients"], vdims="text").opts(
        text_font_size="8.5pt", text_color=TEXT, text_baseline="bottom", yoffset=4)
    top = float(frame["clients"].max()) if len(frame) else 1.0
    return (bars * labels).opts(hv.opts.Overlay(height=320, responsive=True,
                                                ylabel=tr._("clients"),
                                                xlabel=tr._("risk band (A safest)"),
                                                ylim=(0, top * 1.3), **common(tr)))


def roc_plot(points: pd.DataFrame, auc: float | None, tr: Texts = ENGLISH) -> hv.Overlay:
    curve = hv.Curve(points.sort_values(["x", "y"]), "x", "y",
                     label=tr._("model (out-of-fold)")).opts(color=BLUE, line_width=2.5)
    chance = hv.Curve([(0, 0), (1, 1)], label=tr._("chance")).opts(color=GREY,
                                                                   line_dash="dashed")
    title = f"ROC — AUC {tr.number(auc, 3)}" if auc is not None else "ROC"
    return (curve * chance).opts(hv.opts.Overlay(
        height=320, responsive=True, xlabel=tr._("false positive rate (good clients refused)"),
        ylabel=tr._("true positive rate (difficulties caught)"), title=title,
        legend_position="bottom_right", show_grid=True, **common(tr)))


def calibration_plot(points: pd.DataFrame, tr: Texts = ENGLISH) -> hv.Overlay:
    frame = points.sort_values("x")
    curve = hv.Curve(frame, "x", "y", label=tr._("observed")).opts(color=BLUE, line_width=2.5)
    dots = hv.Scatter(frame, "x", "y").opts(color=BLUE, size=7)
    ideal = hv.Curve([(0, 0), (float(frame["x"].max() if len(frame) else 1),) * 2],
                     label=tr._("perfect calibration")).opts(color=GREY, line_dash="dashed")
    return (curve * dots * ideal).opts(hv.opts.Overlay(
        height=320, responsive=True, xlabel=tr._("predicted probability of difficulties"),
        ylabel=tr._("observed share with difficulties"),
        title=tr._("Calibration (out-of-fold)"),
        legend_position="top_left", show_grid=True, **common(tr)))


def cost_plot(points: pd.DataFrame, threshold: float | None,
              tr: Texts = ENGLISH) -> hv.Overlay:
    frame = points.sort_values("x")
    overlay = hv.Curve(frame, "x", "y", label=tr._("expected cost")).opts(color=BLUE,
                                                                          line_width=2.5)
    if threshold is not None:
        overlay = overlay * hv.VLine(threshold).opts(color=VERMILLION, line_dash="dashed",
                                                     line_width=2) * hv.Text(
            threshold, float(frame["y"].max()) if len(frame) else 1.0,
            " " + tr._("chosen threshold {value}", value=tr.number(threshold, 3)),
            halign="left", valign="top",
            fontsize=10).opts(color=TEXT)
    return overlay.opts(hv.opts.Overlay(
        height=320, responsive=True, xlabel=tr._("probability threshold (refuse above)"),
        ylabel=tr._("cost per client (missed default = 10 × refusal)"),
        title=tr._("Cost vs threshold (out-of-fold)"), show_grid=True, **common(tr)))


def importance_bars(importance: pd.DataFrame, tr: Texts = ENGLISH) -> hv.Bars:
    frame = importance.sort_values("mean_abs_shap", ascending=True).copy()
    frame["feature"] = [feature_label(name, tr.lang, str(label))[:48] for name, label in
                        zip(frame["feature_name"], frame["feature_label"], strict=True)]
    return frame.hvplot.barh(x="feature", y="mean_abs_shap", color=BLUE, height=26 * len(frame)
                             + 80, responsive=True, xlabel="",
                             ylabel=tr._("mean |SHAP| (log-odds)"),
                             title=tr._("What the model looks at most")).opts(**common(tr))
