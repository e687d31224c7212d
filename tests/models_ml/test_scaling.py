"""PDO scaling: exact points, the score grid of thresholds, risk bands."""
from __future__ import annotations

import math

import numpy as np
import pytest

from models_ml.config import ScoreScaling
from models_ml.scaling import (
    cutoff_of_threshold,
    points_from_log_odds,
    points_from_shap,
    risk_bands,
    round_scores,
    threshold_grid,
)

SCALING = ScoreScaling()


def log_odds_of_default_at(odds_of_repayment: float) -> float:
    return -math.log(odds_of_repayment)


def test_pdo_constants() -> None:
    assert SCALING.factor == pytest.approx(20 / math.log(2))
    assert SCALING.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))
    assert SCALING.factor == pytest.approx(28.853900817779268)
    assert SCALING.offset == pytest.approx(487.1228762045055)


@pytest.mark.parametrize(("odds", "points"), [(50, 600), (100, 620), (25, 580), (12.5, 560),
                                              (200, 640), (1, 487.1228762045055)])
def test_points_at_reference_odds(odds: float, points: float) -> None:
    assert points_from_log_odds(log_odds_of_default_at(odds), SCALING) == pytest.approx(points)


def test_contribution_points_add_up_to_the_score() -> None:
    rng = np.random.default_rng(0)
    base = -2.4
    shap_values = rng.normal(0, 0.3, (100, 40))
    total = points_from_log_odds(base, SCALING) + points_from_shap(shap_values, SCALING).sum(1)
    expected = points_from_log_odds(base + shap_values.sum(1), SCALING)
    np.testing.assert_allclose(total, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(round_scores(total), round_scores(expected))


def test_threshold_grid_decisions_agree_in_probability_and_points() -> None:
    rng = np.random.default_rng(5)
    log_odds = rng.normal(-2.5, 1.0, 20_000)
    p = 1 / (1 + np.exp(-log_odds))
    scores = round_scores(points_from_log_odds(log_odds, SCALING))
    cutoffs, thresholds = threshold_grid(log_odds, SCALING)
    assert cutoffs.min() < scores.min() and cutoffs.max() >= scores.max()
    for cutoff, threshold in zip(cutoffs, thresholds, strict=True):
        np.testing.assert_array_equal(p > threshold, scores <= cutoff)
        assert cutoff_of_threshold(threshold, SCALING) == cutoff


def test_risk_band_cut_points() -> None:
    scores = np.array([700, 580, 579, 560, 559, 540, 539, 520, 519, 300])
    assert list(risk_bands(scores, SCALING)) == ["A", "A", "B", "B", "C", "C", "D", "D", "E", "E"]
