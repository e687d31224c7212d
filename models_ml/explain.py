"""Scores and SHAP explanations of a chunk of clients, as Arrow tables ready for DuckDB.

This module owns the per-client outputs: probability, points, decision and band; the top SHAP
contributions; the sums per feature family; and the plain-language reasons. TreeSHAP comes from
LightGBM itself (`predict(pred_contrib=True)`, the same algorithm as `shap.TreeExplainer`),
one chunk at a time so memory stays bounded whatever the portfolio size.

Exactness: the booster's contributions plus its base value equal its raw log-odds. Calibration
is affine (a + b·raw), so calibrated SHAP values are b·contribution and the calibrated base value
is a + b·base; their sum is the calibrated log-odds the probability and the score come from.
Points are −factor·SHAP, so base points + Σ points is the unrounded score (models_ml.scaling).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import lightgbm as lgb
import numpy as np
import pyarrow as pa

from models_ml.config import ExplainConfig, ScoreScaling
from models_ml.families import FAMILIES, FAMILY_BY_CODE, PROTECTED_FAMILIES
from models_ml.features import model_input
from models_ml.metrics import Calibration, sigmoid
from models_ml.scaling import points_from_log_odds, risk_bands, round_scores


@dataclass(frozen=True)
class ScoringModel:
    """Everything needed to score and explain clients with one model version."""

    version: str
    booster: lgb.Booster
    features: list[str]
    calibration: Calibration
    threshold: float
    score_cutoff: int
    scaling: ScoreScaling


@dataclass(frozen=True)
class FeatureInfo:
    """Per model feature, aligned with ScoringModel.features."""

    labels: np.ndarray      # object array of str
    families: np.ndarray    # object array of family codes

    def family_columns(self) -> list[tuple[str, np.ndarray]]:
        """The model's families (in FAMILIES order), each with its feature positions."""
        found = ((f.code, np.flatnonzero(self.families == f.code)) for f in FAMILIES)
        return [(code, positions) for code, positions in found if positions.size]


@dataclass(frozen=True)
class ChunkOutput:
    scores: pa.Table
    drivers: pa.Table
    families: pa.Table
    reasons: pa.Table


def compute_contributions(model: ScoringModel, X: np.ndarray, threads: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated SHAP values (rows × features) and base values (rows), in log-odds of default."""
    contrib = model.booster.predict(model_input(X), pred_contrib=True, num_threads=threads)
    k = len(model.features)
    shap_values = model.calibration.b * contrib[:, :k]
    base = model.calibration.a + model.calibration.b * contrib[:, k]
    return shap_values, base


def score_from_contributions(model: ScoringModel, shap_values: np.ndarray, base: np.ndarray
                             ) -> dict[str, np.ndarray]:
    """Probability, log-odds, unrounded and integer score, decision and band of each row."""
    log_odds = base + shap_values.sum(axis=1)
    p = sigmoid(log_odds)
    points = points_from_log_odds(log_odds, model.scaling)
    score = round_scores(points)
    return {
        "log_odds": log_odds, "probability_default": p, "points": points, "score": score,
        "decision": np.where(p > model.threshold, "refuse", "grant").astype(object),
        "risk_band": risk_bands(score, model.scaling),
    }


def explain_chunk(model: ScoringModel, info: FeatureInfo, ids: np.ndarray, X: np.ndarray,
                  scored_at: datetime, config: ExplainConfig, threads: int) -> ChunkOutput:
    """All per-client outputs of one chunk."""
    shap_values, base = compute_contributions(model, X, threads)
    return chunk_output(model, info, ids, X, shap_values, base, scored_at, config)


def chunk_output(model: ScoringModel, info: FeatureInfo, ids: np.ndarray, X: np.ndarray,
                 shap_values: np.ndarray, base: np.ndarray, scored_at: datetime,
                 config: ExplainConfig) -> ChunkOutput:
    """All per-client outputs of one chunk from its contributions (`compute_contributions`)."""
    scored = score_from_contributions(model, shap_values, base)
    n = len(ids)
    scores = pa.table({
        "sk_id_curr": pa.array(ids, pa.int64()),
        "model_version": repeated(model.version, n),
        "probability_default": scored["probability_default"],
        "score": pa.array(scored["score"], pa.int32()),
        "decision": pa.array(scored["decision"], pa.string()),
        "threshold": np.full(n, model.threshold),
        "score_cutoff": pa.array(np.full(n, model.score_cutoff), pa.int32()),
        "risk_band": pa.array(scored["risk_band"], pa.string()),
        "scored_at": pa.array([scored_at] * n, pa.timestamp("us")),
        "log_odds": scored["log_odds"],
        "base_value": base,
    })
    families, family_shap = sum_families(info, shap_values)
    return ChunkOutput(
        scores=scores,
        drivers=top_drivers(model, info, ids, X, shap_values, config.top_drivers),
        families=family_table(model, ids, families, family_shap),
        reasons=top_reasons(model, ids, families, family_shap, config),
    )


def top_drivers(model: ScoringModel, info: FeatureInfo, ids: np.ndarray, X: np.ndarray,
                shap_values: np.ndarray, top: int) -> pa.Table:
    """The `top` largest |SHAP| contributions per client (zero contributions left out)."""
    n, k = shap_values.shape
    top = min(top, k)
    magnitude = np.abs(shap_values)
    candidates = np.argpartition(-magnitude, top - 1, axis=1)[:, :top] if top < k else \
        np.tile(np.arange(k), (n, 1))
    # order the candidates by |shap| descending, feature position breaking ties
    cand_mag = np.take_along_axis(magnitude, candidates, axis=1)
    order = np.lexsort((candidates, -cand_mag), axis=1)
    chosen = np.take_along_axis(candidates, order, axis=1)
    rows = np.repeat(np.arange(n), top)
    cols = chosen.ravel()
    values = shap_values[rows, cols]
    keep = values != 0
    rows, cols, values = rows[keep], cols[keep], values[keep]
    rank = np.tile(np.arange(1, top + 1), n)[keep]
    feature_value = X[rows, cols].astype(np.float64)  # X holds the exact (float64) values
    return pa.table({
        "sk_id_curr": pa.array(ids[rows], pa.int64()),
        "model_version": repeated(model.version, len(rows)),
        "rank": pa.array(rank, pa.int32()),
        "feature_name": encoded(cols, model.features),
        "feature_label": encoded(cols, info.labels),
        "family": encoded(cols, info.families),
        # NaN (missing) becomes SQL null
        "feature_value": pa.array(feature_value, pa.float64(), from_pandas=True),
        "shap_value": values,
        "points": -model.scaling.factor * values,
    })


def sum_families(info: FeatureInfo, shap_values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Family codes and the SHAP sums per client × family.

    Each sum adds the family's features one at a time, in the model's feature order, so a
    client's sums are the same bits whatever chunk it is scored in. A matrix product by a 0/1
    matrix (as before) lets BLAS choose its order of additions by the matrix's size: the
    last bits of some clients' sums differed between a whole-portfolio chunk and a bucket's."""
    columns = info.family_columns()
    by_feature = np.ascontiguousarray(shap_values.T, dtype=np.float64)
    sums = np.zeros((len(columns), shap_values.shape[0]))
    for j, (_, positions) in enumerate(columns):
        for k in positions:
            sums[j] += by_feature[k]
    return [code for code, _ in columns], np.ascontiguousarray(sums.T)


def family_table(model: ScoringModel, ids: np.ndarray, families: list[str],
                 family_shap: np.ndarray) -> pa.Table:
    n, m = family_shap.shape
    labels = [FAMILY_BY_CODE[f].label for f in families]
    values = family_shap.ravel()
    position = np.tile(np.arange(m), n)
    return pa.table({
        "sk_id_curr": pa.array(np.repeat(ids, m), pa.int64()),
        "model_version": repeated(model.version, n * m),
        "family": encoded(position, families),
        "family_label": encoded(position, labels),
        "shap_value": values,
        "points": -model.scaling.factor * values,
    })


def top_reasons(model: ScoringModel, ids: np.ndarray, families: list[str],
                family_shap: np.ndarray, config: ExplainConfig) -> pa.Table:
    """Up to `max_reasons` risk-increasing, non-protected families per client, largest first."""
    n, m = family_shap.shape
    citable = np.array([f not in PROTECTED_FAMILIES for f in families])
    points = -model.scaling.factor * family_shap
    eligible = citable[None, :] & (points <= -config.reason_min_points)
    ranked = np.where(eligible, family_shap, -np.inf)
    take = min(config.max_reasons, m)
    order = np.argsort(-ranked, axis=1, kind="stable")[:, :take]
    rows = np.repeat(np.arange(n), take)
    cols = order.ravel()
    keep = eligible[rows, cols]
    rows, cols = rows[keep], cols[keep]
    rank = np.tile(np.arange(1, take + 1), n)[keep]
    return pa.table({
        "sk_id_curr": pa.array(ids[rows], pa.int64()),
        "model_version": repeated(model.version, len(rows)),
        "rank": pa.array(rank, pa.int32()),
        "reason_code": encoded(cols, [FAMILY_BY_CODE[f].reason_code for f in families]),
        "reason_text": encoded(cols, [FAMILY_BY_CODE[f].reason_text for f in families]),
        "family": encoded(cols, families),
        "points": points[rows, cols],
    })


def encoded(positions: np.ndarray, values: list[str] | np.ndarray) -> pa.DictionaryArray:
    """values[positions] as a dictionary-encoded string column: building millions of Python
    strings per chunk would cost more than the SHAP values themselves; DuckDB reads it as text."""
    return pa.DictionaryArray.from_arrays(pa.array(positions, pa.int32()),
                                          pa.array(list(values), pa.string()))


def repeated(value: str, n: int) -> pa.DictionaryArray:
    return encoded(np.zeros(n, dtype=np.int32), [value])


def mean_abs_shap(model: ScoringModel, X: np.ndarray, threads: int, chunk_rows: int
                  ) -> np.ndarray:
    """Global importance: mean |SHAP| (calibrated log-odds) per feature over the rows of X."""
    total = np.zeros(len(model.features))
    for start in range(0, len(X), chunk_rows):
        shap_values, _ = compute_contributions(model, X[start:start + chunk_rows], threads)
        total += np.abs(shap_values).sum(axis=0)
    return total / max(len(X), 1)


def base_value_of(model: ScoringModel, n_features: int, threads: int) -> float:
    """The calibrated base value (expected log-odds under TreeSHAP), the same for every client."""
    _, base = compute_contributions(model, np.full((1, n_features), np.nan, dtype=np.float32),
                                    threads)
    return float(base[0])
