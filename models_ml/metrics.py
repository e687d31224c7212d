"""Evaluation on out-of-fold predictions: metrics, the cost-minimising threshold, curves, Platt.

Conventions used everywhere: `p` is the probability of default, a client is *refused* when
p > threshold (a positive prediction), a false negative is a defaulter granted (cost `cost_fn`),
a false positive a good client refused (cost `cost_fp`). Expected cost is per client, in units
of `cost_fp`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

EPS = 1e-15


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    expected_cost: float


@dataclass(frozen=True)
class Calibration:
    """Affine map of the booster's raw log-odds: calibrated log-odds = a + b·raw.

    Affine in log-odds, so SHAP contributions scale by b and the base value maps to a + b·base:
    explanations stay exact after calibration.
    """

    method: str
    a: float
    b: float

    def apply(self, raw: np.ndarray) -> np.ndarray:
        return self.a + self.b * raw


IDENTITY = Calibration("none", 0.0, 1.0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p))


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov–Smirnov: the largest gap between the score distributions of bads and goods."""
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def costs_at_thresholds(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray,
                        cost_fn: float, cost_fp: float = 1.0) -> np.ndarray:
    """Expected cost per client for each threshold (refuse when p > threshold), vectorised."""
    order = np.argsort(p, kind="stable")
    ps, ys = p[order], y[order].astype(np.int64)
    granted = np.searchsorted(ps, thresholds, side="right")  # rows with p <= t
    bads_cum = np.concatenate([[0], np.cumsum(ys)])
    false_negatives = bads_cum[granted]
    goods_refused = (len(ys) - granted) - (bads_cum[-1] - false_negatives)
    return (cost_fn * false_negatives + cost_fp * goods_refused) / len(ys)


def choose_threshold(y: np.ndarray, p: np.ndarray, candidates: np.ndarray,
                     cost_fn: float, cost_fp: float = 1.0) -> ThresholdChoice:
    """The candidate threshold with the lowest expected cost; among ties the highest one
    (at equal cost, grant more clients)."""
    candidates = np.sort(np.asarray(candidates, dtype=np.float64))
    costs = costs_at_thresholds(y, p, candidates, cost_fn, cost_fp)
    best = np.flatnonzero(costs <= costs.min() + 1e-12)[-1]
    return ThresholdChoice(float(candidates[best]), float(costs[best]))


def precision_recall(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of 'refuse' as the detection of defaulters."""
    refused = p > threshold
    true_positives = float(np.sum(refused & (y == 1)))
    precision = true_positives / max(float(np.sum(refused)), 1.0)
    recall = true_positives / max(float(np.sum(y == 1)), 1.0)
    return precision, recall


def fit_platt(raw: np.ndarray, y: np.ndarray, iterations: int = 50) -> Calibration:
    """Platt scaling: the logistic regression of y on raw log-odds (Newton–Raphson, no penalty)."""
    z = raw.astype(np.float64)
    target = y.astype(np.float64)
    a, b = 0.0, 1.0
    for _ in range(iterations):
        q = sigmoid(a + b * z)
        w = np.maximum(q * (1 - q), 1e-12)
        gradient = np.array([np.sum(q - target), np.sum((q - target) * z)])
        hessian = np.array([[np.sum(w), np.sum(w * z)], [np.sum(w * z), np.sum(w * z * z)]])
        step = np.linalg.solve(hessian, gradient)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-10:
            break
    return Calibration("platt", float(a), float(b))


def roc_points(y: np.ndarray, p: np.ndarray, max_points: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate), thinned to at most `max_points`."""
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=True)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return fpr, tpr


def calibration_points(y: np.ndarray, p: np.ndarray, bins: int = 20
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(mean predicted, observed default rate) over quantile bins of the prediction."""
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, bins) if len(g)]
    predicted = np.array([p[g].mean() for g in groups])
    observed = np.array([y[g].mean() for g in groups])
    return predicted, observed
