"""Charts (DataFrame → HoloViews rendered to Bokeh; the client page's gauge and waterfall as
HTML) and the accessibility of the palette."""
from __future__ import annotations

import re

import holoviews as hv
import pandas as pd
import pytest
from bokeh.models import ContinuousAxis, CustomJSTickFormatter

from dashboard import plots
from dashboard.html_charts import gauge_html, nice_ticks, waterfall_html
from dashboard.lookup import Lookup
from dashboard.pages.comparison import position_sentence
from dashboard.texts import texts
from dashboard.theme import (
    BAND_COLOURS,
    TEXT_PAIRS,
    contrast_ratio,
    readable_text,
    relative_luminance,
)
from tests.dashboard.conftest import SampleIds


def frame(records: list) -> pd.DataFrame:
    return pd.DataFrame([r.model_dump() for r in records])


def test_wcag_contrast_of_every_text_colour() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert relative_luminance("#FFFFFF") == pytest.approx(1.0)
    for foreground, background in TEXT_PAIRS:
        assert contrast_ratio(foreground, background) >= 4.5, (foreground, background)
    for colour in BAND_COLOURS.values():  # band letters written on the band colours
        assert contrast_ratio(readable_text(colour), colour) >= 4.5


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_chart_renders_with_numbers_in_the_language(lookup: Lookup, ids: SampleIds,
                                                          lang: str) -> None:
    tr = texts(lang)
    explanation = lookup.explanation(ids.refused)
    steps = plots.waterfall_steps(frame(explanation.drivers), frame(explanation.families), tr)
    assert steps["points"].sum() == pytest.approx(sum(f.points for f in explanation.families))
    features = lookup.features().items
    comparison = lookup.comparison(ids.refused, features[0].feature_name, "outcome")
    scatter = lookup.scatter(ids.refused, features[0].feature_name, features[1].feature_name)
    portfolio = lookup.portfolio()
    curves = frame(lookup.model_curves().points)
    model = lookup.model()
    charts = [
        plots.comparison_histogram(frame(comparison.bins), comparison.client_value, "label", tr),
        plots.comparison_histogram(frame(comparison.bins), None, "label", tr),
        plots.feature_scatter(frame(scatter.points), scatter.client.x, scatter.client.y, "x",
                              "y", tr),
        plots.score_distribution(frame(portfolio.score_histogram), portfolio.score_cutoff,
                                 tr=tr),
        plots.band_bars(frame(portfolio.bands), tr),
        plots.roc_plot(curves[curves["curve"] == "roc"], model.oof_auc, tr),
        plots.calibration_plot(curves[curves["curve"] == "calibration"], tr),
        plots.cost_plot(curves[curves["curve"] == "cost"], model.threshold, tr=tr),
        plots.importance_bars(frame(model.importance), tr),
    ]
    for chart in charts:
        figure = hv.render(chart)
        numeric = [axis for axis in figure.axis if isinstance(axis, ContinuousAxis)]
        assert numeric, chart  # every chart has a number axis, each written for the reader
        for axis in numeric:
            assert isinstance(axis.formatter, CustomJSTickFormatter), (chart, axis)
            assert axis.formatter.args["lang"] == lang


def test_gauge_and_position_texts(lookup: Lookup, ids: SampleIds) -> None:
    bands = frame(lookup.portfolio().bands)
    score = lookup.score(ids.refused)
    html = gauge_html(score.score, score.score_cutoff, bands)
    assert f"▼ {score.score}" in html and "Band A" in html and "refused at" in html
    limits = plots.band_limits(bands)
    assert (limits["low"] < limits["high"]).all()
    bins = pd.DataFrame({"bin_low": [0.0, 1.0], "bin_high": [1.0, 2.0], "clients": [10, 30],
                         "group": ["all", "all"]})
    assert "25%" in position_sentence(bins, 1.0)
    assert "missing" in position_sentence(bins, None)


def test_waterfall_rows_add_up_to_the_score(lookup: Lookup, ids: SampleIds) -> None:
    for cid in (ids.refused, ids.granted):
        explanation = lookup.explanation(cid)
        steps = plots.waterfall_steps(frame(explanation.drivers), frame(explanation.families))
        html = waterfall_html(steps, explanation.base_points, explanation.score)
        rows = re.findall(r"<tr style='height:\d+px'><th scope='row'[^>]*>([^<]*)</th>.*?"
                          r"<td style='text-align:right[^>]*>([^<]*)</td></tr>", html)
        labels = [label for label, _ in rows]
        assert labels[0] == "Average client" and labels[-1] == "This client"
        assert labels[1:-1] == [str(label) for label in steps["label"]]
        points = [float(value) for _, value in rows[1:-1]]
        assert explanation.base_points + sum(points) == pytest.approx(explanation.score,
                                                                       abs=0.05 * len(points))
        # one bar per step, coloured by direction; bars are hidden from screen readers
        assert html.count("aria-hidden='true' style='position:absolute;top:5px") == len(steps)
        assert f"{explanation.score:.0f} points" in rows[-1][1]


def test_nice_ticks() -> None:
    assert nice_ticks(493.2, 611.7) == [500, 550, 600]
    assert nice_ticks(493.2, 611.7, 12) == [500, 520, 540, 560, 580, 600]
    assert nice_ticks(0, 1, 3) == [0, 0.5, 1.0]
