"""The champion model and the portfolio: model summary (run, importance, score scaling), run
history, curves, refresh runs, and the decisions / bands / score distribution of all clients."""
from __future__ import annotations

import json
import math
from typing import Any

import duckdb

from dashboard.lookup.snapshots import Snapshot, Snapshots
from dashboard.lookup.sql import S, WarehouseUnavailable, columns_of, fetch, jsonable
from dashboard.schemas import (
    CurvePoint,
    ImportanceItem,
    ModelCurves,
    ModelRun,
    ModelRuns,
    ModelSummary,
    Portfolio,
    PortfolioBand,
    PortfolioDecision,
    RefreshRuns,
    ScoreBin,
    ScoreScaling,
)


def champion(snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> ModelSummary:
    """The champion's summary, read once per snapshot."""
    return snap.cached("model", lambda: _model(cur))


def model(snapshots: Snapshots) -> ModelSummary:
    """The champion's run, its top importance and the score scaling."""
    with snapshots.session() as (snap, cur):
        return champion(snap, cur)


def _model(cur: duckdb.DuckDBPyConnection) -> ModelSummary:
    runs = fetch(cur, f"select * from {S}.model_runs "
                      f"order by is_champion desc, trained_at desc nulls last limit 1")
    if not runs:
        raise WarehouseUnavailable("the published warehouse has no model run yet")
    run = _model_run(runs[0])
    importance = fetch(cur, f"select i.rank, i.feature_name, "
                            f"coalesce(d.feature_label, i.feature_name) as feature_label, "
                            f"d.family, i.mean_abs_shap, i.gain "
                            f"from {S}.feature_importance i "
                            f"left join {S}.feature_dictionary d using (feature_name) "
                            f"where i.model_version = ? order by i.rank limit 20",
                       [run.model_version])
    scaling = (_scaling_from_run(run, cur) or _scaling_from_params(run.params, cur)
               or _derive_scaling(cur))
    return ModelSummary(**run.model_dump(),
                        importance=[ImportanceItem(**i) for i in importance],
                        score_scaling=scaling)


def model_runs(snapshots: Snapshots) -> ModelRuns:
    with snapshots.session() as (_, cur):
        rows = fetch(cur, f"select * from {S}.model_runs "
                          f"order by trained_at desc nulls last, model_version")
    return ModelRuns(items=[_model_run(r) for r in rows])


def model_curves(snapshots: Snapshots) -> ModelCurves:
    """ROC, calibration and cost-vs-threshold points of the champion (out-of-fold)."""
    with snapshots.session() as (snap, cur):
        version = champion(snap, cur).model_version
        columns = columns_of(cur, "model_curves")
        order = "curve, point" if "point" in columns else "curve, x"
        if "model_version" in columns:
            rows = fetch(cur, f"select curve, x, y from {S}.model_curves "
                              f"where model_version = ? order by {order}", [version])
        else:  # serving holds the current model only
            rows = fetch(cur, f"select curve, x, y from {S}.model_curves order by {order}")
    points = [CurvePoint(**r) for r in rows if r["x"] is not None and r["y"] is not None]
    return ModelCurves(model_version=version, points=points)


def refresh_runs(snapshots: Snapshots, limit: int = 20) -> RefreshRuns:
    """Recent refresh runs, newest first; empty when the run log cannot be read (it is a
    view over run records on disk, which an analyst's copy of the file may not have)."""
    with snapshots.session() as (_, cur):
        try:
            rows = fetch(cur, f"select * from {S}.refresh_runs "
                              f"order by started_at desc nulls last limit ?", [limit])
        except duckdb.Error:
            rows = []
    return RefreshRuns(items=[{k: jsonable(v) for k, v in r.items()} for r in rows])


def portfolio(snapshots: Snapshots) -> Portfolio:
    """Decisions, risk bands and the score distribution of every scored client."""
    with snapshots.session() as (snap, cur):
        return snap.cached("portfolio", lambda: _portfolio(cur))


# --- helpers (module level: no state) ---------------------------------------------------------


def _model_run(row: dict[str, Any]) -> ModelRun:
    params = row.get("params")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            params = {"raw": params}
    fields = {k: jsonable(v) if k not in ModelRun.model_fields else v
              for k, v in row.items() if k != "params"}
    fields["is_champion"] = bool(fields.get("is_champion"))
    return ModelRun(**fields, params=params if isinstance(params, dict) else {})


def _find_scaling(params: dict[str, Any]) -> dict[str, Any] | None:
    if {"offset", "factor"} <= params.keys():
        return params
    for value in params.values():
        if isinstance(value, dict) and {"offset", "factor"} <= value.keys():
            return value
    return None


def _score_cutoff(cur: duckdb.DuckDBPyConnection) -> float | None:
    value = cur.execute(f"select max(score_cutoff) from {S}.client_scores").fetchone()[0]
    return float(value) if value is not None else None


def _scaling_from_run(run: ModelRun, cur: duckdb.DuckDBPyConnection) -> ScoreScaling | None:
    extra = run.model_extra or {}
    if extra.get("score_offset") is None or extra.get("score_factor") is None:
        return None
    factor, offset = float(extra["score_factor"]), float(extra["score_offset"])
    return ScoreScaling(offset=offset, factor=factor, pdo=factor * math.log(2.0),
                        score_cutoff=_score_cutoff(cur), source="model_runs")


def _scaling_from_params(params: dict[str, Any],
                         cur: duckdb.DuckDBPyConnection) -> ScoreScaling | None:
    found = _find_scaling(params)
    if found is None:
        return None
    factor, offset = float(found["factor"]), float(found["offset"])
    return ScoreScaling(offset=offset, factor=factor, pdo=factor * math.log(2.0),
                        score_cutoff=_score_cutoff(cur), source="params")


def _derive_scaling(cur: duckdb.DuckDBPyConnection) -> ScoreScaling:
    """Solve score = offset − factor·logit(p) from the published rows: points = −factor·shap
    gives the factor exactly; the offset follows from the (integer) scores, to ±0.5."""
    factor = cur.execute(f"select median(-points / shap_value) from (select points, shap_value "
                         f"from {S}.client_drivers where abs(shap_value) > 1e-9 limit 100000)"
                         ).fetchone()[0]
    if factor is None:
        raise WarehouseUnavailable("cannot derive the score scaling: no contributions published")
    offset = cur.execute(f"select median(score + ? * ln(probability_default / "
                         f"(1 - probability_default))) from (select score, probability_default "
                         f"from {S}.client_scores where probability_default > 1e-12 "
                         f"and probability_default < 1 - 1e-12 limit 100000)",
                         [factor]).fetchone()[0]
    return ScoreScaling(offset=float(offset), factor=float(factor),
                        pdo=float(factor) * math.log(2.0), score_cutoff=_score_cutoff(cur),
                        source="derived")


def _nice_width(span: float, bins: int = 40) -> int:
    raw = max(span / bins, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def _portfolio(cur: duckdb.DuckDBPyConnection) -> Portfolio:
    head = cur.execute(f"select count(*), any_value(model_version), max(score_cutoff), "
                       f"min(score), max(score) from {S}.client_scores").fetchone()
    clients, version, cutoff, low, high = head
    decisions = fetch(cur, f"select c.population, s.decision, count(*) as clients "
                           f"from {S}.clients c join {S}.client_scores s using (sk_id_curr) "
                           f"group by all order by all")
    # observed difficulties per band: history clients in the band of their OUT-OF-FOLD
    # prediction (serving.band_outcomes), never the in-sample band of the champion's own score
    bands = fetch(cur, f"select s.risk_band, count(*) as clients, min(s.score) as min_score, "
                       f"max(s.score) as max_score, "
                       f"avg(s.probability_default) as mean_probability, "
                       f"coalesce(any_value(o.history_clients), 0) as history_clients, "
                       f"any_value(o.default_rate) as default_rate "
                       f"from {S}.client_scores s left join {S}.band_outcomes o "
                       f"on o.risk_band = s.risk_band and o.model_version = s.model_version "
                       f"group by s.risk_band order by s.risk_band")
    histogram: list[dict[str, Any]] = []
    if clients:
        width = _nice_width(float(high - low))
        histogram = fetch(cur, f"select floor(score / ?) * ? as bin_low, "
                               f"floor(score / ?) * ? + ? as bin_high, decision, "
                               f"count(*) as clients from {S}.client_scores "
                               f"group by all order by all", [width, width, width, width, width])
    return Portfolio(clients=int(clients), model_version=version,
                     score_cutoff=float(cutoff) if cutoff is not None else None,
                     decisions=[PortfolioDecision(**d) for d in decisions],
                     bands=[PortfolioBand(**b) for b in bands],
                     score_histogram=[ScoreBin(**h) for h in histogram])
