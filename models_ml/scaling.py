"""Score points (PDO scaling), risk bands and the score grid the decision threshold lives on.

score = offset + factor·ln(odds of repayment) = offset − factor·(log-odds of default), rounded to
an integer. A SHAP value s (log-odds of default) is worth −factor·s points, and the base value b
is worth offset − factor·b, so base points plus all contribution points give the unrounded score
exactly.

The threshold is chosen among probabilities that sit half a point between two integer scores:
refusing when p > threshold is then the same as refusing when score ≤ score_cutoff, so the
probability view and the points view of a decision never disagree.
"""
from __future__ import annotations

import numpy as np

from models_ml.config import ScoreScaling
from models_ml.metrics import sigmoid


def points_from_log_odds(log_odds: np.ndarray, scaling: ScoreScaling) -> np.ndarray:
    """Unrounded score of a log-odds of default."""
    return scaling.offset - scaling.factor * np.asarray(log_odds, dtype=np.float64)


def round_scores(points: np.ndarray) -> np.ndarray:
    return np.rint(points).astype(np.int32)


def points_from_shap(shap_values: np.ndarray, scaling: ScoreScaling) -> np.ndarray:
    """Points of contributions: > 0 raises the score (lowers the risk)."""
    return -scaling.factor * shap_values


def probability_at_points(points: np.ndarray, scaling: ScoreScaling) -> np.ndarray:
    return sigmoid((scaling.offset - np.asarray(points, dtype=np.float64)) / scaling.factor)


def threshold_grid(log_odds: np.ndarray, scaling: ScoreScaling) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (score cutoffs, probability thresholds) covering every observed score.

    Cutoff c refuses scores ≤ c, i.e. unrounded points < c + 0.5, i.e. p > threshold(c).
    """
    points = points_from_log_odds(log_odds, scaling)
    cutoffs = np.arange(np.floor(points.min()) - 1, np.ceil(points.max()) + 1)
    return cutoffs.astype(np.int64), probability_at_points(cutoffs + 0.5, scaling)


def cutoff_of_threshold(threshold: float, scaling: ScoreScaling) -> int:
    """The score cutoff whose grid threshold is `threshold` (inverse of threshold_grid)."""
    log_odds = np.log(threshold / (1 - threshold))
    return int(np.rint(scaling.offset - scaling.factor * log_odds - 0.5))


def risk_bands(scores: np.ndarray, scaling: ScoreScaling) -> np.ndarray:
    """'A' (safest) … 'E' from integer scores (cut points in ScoreScaling.band_floors)."""
    bands = np.full(len(scores), scaling.lowest_band, dtype=object)
    # floors run from the best band down: assign in reverse so the best matching band wins
    for band, floor in reversed(scaling.band_floors):
        bands[np.asarray(scores) >= floor] = band
    return bands


def scaling_record(scaling: ScoreScaling) -> dict[str, object]:
    """The scaling as stored in a model's metadata."""
    return {
        "points": scaling.points, "odds": scaling.odds, "pdo": scaling.pdo,
        "factor": scaling.factor, "offset": scaling.offset,
        "band_floors": [[band, floor] for band, floor in scaling.band_floors],
        "lowest_band": scaling.lowest_band,
    }


def scaling_from_record(record: dict[str, object]) -> ScoreScaling:
    return ScoreScaling(
        points=float(record["points"]), odds=float(record["odds"]), pdo=float(record["pdo"]),
        band_floors=tuple((str(b), int(f)) for b, f in record["band_floors"]),
        lowest_band=str(record["lowest_band"]))
