"""Threshold choice, costs, Platt scaling and KS on hand-made examples."""
from __future__ import annotations

import numpy as np
import pytest

from models_ml.metrics import (
    choose_threshold,
    costs_at_thresholds,
    fit_platt,
    ks_statistic,
    precision_recall,
    sigmoid,
)

# 8 clients, 3 defaulters; refusing means p > threshold
Y = np.array([0, 0, 0, 1, 0, 1, 1, 0])
P = np.array([0.05, 0.10, 0.20, 0.25, 0.30, 0.60, 0.70, 0.80])
CANDIDATES = np.array([0.0, 0.075, 0.15, 0.225, 0.275, 0.35, 0.45, 0.65, 0.75, 0.9])


def test_threshold_with_costly_false_negatives_refuses_every_defaulter() -> None:
    # FN = 10 FP: the cheapest is to refuse from 0.25 up: no defaulter granted, 2 goods refused
    choice = choose_threshold(Y, P, CANDIDATES, cost_fn=10.0)
    assert choice.threshold == pytest.approx(0.225)
    assert choice.expected_cost == pytest.approx(2 / 8)


def test_threshold_with_equal_costs_and_ties_takes_the_highest() -> None:
    # FN = FP: refusing 0.6, 0.7, 0.8 costs 1 FP + 1 FN; 0.35 and 0.45 tie, the higher wins
    choice = choose_threshold(Y, P, CANDIDATES, cost_fn=1.0)
    assert choice.threshold == pytest.approx(0.45)
    assert choice.expected_cost == pytest.approx(2 / 8)


def test_vectorised_costs_match_a_direct_count() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.2).astype(int)
    p = np.round(rng.random(500), 2)  # ties on purpose
    thresholds = np.linspace(0, 1, 37)
    fast = costs_at_thresholds(y, p, thresholds, cost_fn=7.0, cost_fp=1.5)
    slow = [(7.0 * np.sum((p <= t) & (y == 1)) + 1.5 * np.sum((p > t) & (y == 0))) / len(y)
            for t in thresholds]
    np.testing.assert_allclose(fast, slow)


def test_precision_recall_of_refusals() -> None:
    precision, recall = precision_recall(Y, P, 0.225)
    assert precision == pytest.approx(3 / 5)
    assert recall == pytest.approx(1.0)


def test_platt_recovers_a_known_affine_calibration() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(-2, 1.2, 200_000)
    y = (rng.random(raw.size) < sigmoid(0.4 + 1.3 * raw)).astype(int)
    calibration = fit_platt(raw, y)
    assert calibration.a == pytest.approx(0.4, abs=0.05)
    assert calibration.b == pytest.approx(1.3, abs=0.05)


def test_ks_of_separated_and_random_scores() -> None:
    assert ks_statistic(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    rng = np.random.default_rng(1)
    assert ks_statistic(rng.integers(0, 2, 5000), rng.random(5000)) < 0.06
