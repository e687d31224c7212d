"""Charts (DataFrame → HoloViews, rendered to Bokeh) and the accessibility of the palette."""
from __future__ import annotations

import holoviews as hv
import pandas as pd
import pytest

from dashboard import plots
from dashboard.app import gauge_html, position_sentence
from dashboard.lookup import Lookup
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


def test_every_chart_renders(lookup: Lookup, ids: SampleIds) -> None:
    explanation = lookup.explanation(ids.refused)
    steps = plots.waterfall_steps(frame(explanation.drivers), frame(explanation.families))
    assert steps["points"].sum() == pytest.approx(sum(f.points for f in explanation.families))
    features = lookup.features().items
    comparison = lookup.comparison(ids.refused, features[0].feature_name, "outcome")
    scatter = lookup.scatter(ids.refused, features[0].feature_name, features[1].feature_name)
    portfolio = lookup.portfolio()
    curves = frame(lookup.model_curves().points)
    model = lookup.model()
    charts = [
        plots.contribution_waterfall(steps, explanation.base_points, explanation.score),
        plots.comparison_histogram(frame(comparison.bins), comparison.client_value, "label"),
        plots.comparison_histogram(frame(comparison.bins), None, "label"),
        plots.feature_scatter(frame(scatter.points), scatter.client.x, scatter.client.y, "x",
                              "y"),
        plots.score_distribution(frame(portfolio.score_histogram), portfolio.score_cutoff),
        plots.band_bars(frame(portfolio.bands)),
        plots.roc_plot(curves[curves["curve"] == "roc"], model.oof_auc),
        plots.calibration_plot(curves[curves["curve"] == "calibration"]),
        plots.cost_plot(curves[curves["curve"] == "cost"], model.threshold),
        plots.importance_bars(frame(model.importance)),
    ]
    for chart in charts:
        assert hv.render(chart) is not None


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
