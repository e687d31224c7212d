"""The functions the refresh flow calls, each with a DuckDB file path and the models folder.

Order in a refresh (after dbt has built the marts, before dbt builds `serving`):

    result = train_model(db, paths.models)                      # only when retraining
    version = result.scoring_version if retrained else None     # None = the champion
    scored = score_clients(db, paths.models, previous_db=published_or_None, model_version=version)
    write_model_tables(db, paths.models, champion_version=scored.model_version)

Training registers a version and the champion guard's verdict but never promotes it: the model
a run scores with becomes the champion (models/champion.json) only when the warehouse scored
with it is published (flows.publish), so the registry and the published warehouse agree at
every step boundary. `run_ml` chains the three for a standalone run (no warehouse to publish)
and sets the champion at its end. Every function opens and closes its own DuckDB connection,
so the flow passes paths, never DataFrames. Scoring itself lives in `models_ml.batch_scoring`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models_ml.batch_scoring import ScoreResult, score_clients
from models_ml.config import MlConfig, load_config
from models_ml.explain import (
    ScoringModel,
    base_value_of,
    mean_abs_shap,
)
from models_ml.features import (
    FEATURES_TABLE,
    FeatureMatrix,
    connect,
    count_history,
    fingerprint_history,
    list_feature_columns,
    read_catalog,
    read_history,
    select_model_features,
)
from models_ml.guard import GuardDecision, judge_challenger
from models_ml.registry import (
    ModelRecord,
    find_champion,
    get_model,
    list_models,
    new_version_id,
    rfc3339,
    save_model,
    set_champion,
    utc_now,
)
from models_ml.scaling import scaling_record
from models_ml.store import (
    feature_dictionary_frame,
    feature_importance_frame,
    model_curves_frame,
    model_runs_frame,
    oof_frame,
    replace_model_table,
)
from models_ml.train import (
    FOLD_THREADS,
    CrossValidation,
    Evaluation,
    build_dataset,
    cross_validate,
    cross_validate_and_fit,
    evaluate,
    final_tree_count,
    model_params_record,
    prune_unused_features,
    require_enough_history,
    require_splits,
    train_final,
)
from warehouse.errors import BadInput


@dataclass(frozen=True)
class TrainResult:
    model_version: str
    passes_guard: bool           # this version may replace the champion (CONTRACTS §5)
    scoring_version: str         # what this run scores with: this version if it passes the
                                 # guard, else the current champion; it becomes the champion
                                 # when the warehouse scored with it is published
    guard_message: str           # why it will (not) be promoted
    metrics: dict[str, float]
    threshold: float
    score_cutoff: int
    n_train: int
    n_features: int
    n_trees: int
    seconds: dict[str, float]
    model_dir: Path


@dataclass(frozen=True)
class MlRunResult:
    trained: TrainResult | None
    scored: ScoreResult


# --- training -----------------------------------------------------------------------------------

def train_model(db_path: Path, models_dir: Path, config: MlConfig | None = None) -> TrainResult:
    """Train, evaluate and register a model on the history clients of marts.client_features.

    The version is registered with the champion guard's verdict (models_ml.guard) and is not
    promoted here: the result says which version the run should score with.
    """
    config = config or load_config()
    timer = _Timer()
    con = connect(Path(db_path), read_only=True, threads=config.train.threads)
    try:
        data = _load_training_data(con, config)
        timer.lap("load")
        fitted = _fit_model(data, config, timer)
        champion = find_champion(Path(models_dir))
        decision = judge_challenger(con, champion, data.fingerprint, data.history,
                                    fitted.evaluation.oof_probability,
                                    config.train.guard_tolerance, config.train.threads,
                                    config.explain.chunk_rows)
        timer.lap("guard")
    finally:
        con.close()
    metadata = _metadata(data, fitted, decision, config, timer, Path(db_path))
    oof = pd.DataFrame({"sk_id_curr": data.history.ids,
                        "fold": fitted.cv.fold_of_row.astype(np.int32),
                        "target": data.history.y.astype(np.int32),
                        "probability_default": fitted.evaluation.oof_probability})
    record = save_model(Path(models_dir), fitted.model.version,
                        fitted.model.booster.model_to_string(), metadata, oof)
    scoring = record if decision.promote or champion is None else champion
    return TrainResult(
        model_version=record.version, passes_guard=decision.promote,
        scoring_version=scoring.version,
        guard_message=decision.message, metrics=fitted.evaluation.metrics,
        threshold=fitted.evaluation.threshold, score_cutoff=fitted.evaluation.score_cutoff,
        n_train=len(data.history.y), n_features=len(fitted.model.features),
        n_trees=fitted.trees, seconds=timer.seconds, model_dir=record.path)


@dataclass(frozen=True)
class _TrainingData:
    columns: list[str]           # every feature column of the mart
    catalog: pd.DataFrame
    candidates: list[str]        # the columns the model may use (exclusions applied)
    history: FeatureMatrix
    fingerprint: str


@dataclass(frozen=True)
class _Fitted:
    cv: CrossValidation
    evaluation: Evaluation
    trees: int
    model: ScoringModel          # the final, pruned model
    importance: list[dict[str, float | str | int]]
    trained_at: datetime


def _load_training_data(con: duckdb.DuckDBPyConnection, config: MlConfig) -> _TrainingData:
    columns = list_feature_columns(con)
    require_enough_history(*count_history(con), config.train)
    catalog = read_catalog(con, columns)
    candidates = select_model_features(catalog, config.train.exclude_features)
    if not candidates:
        raise BadInput(f"{FEATURES_TABLE}: none of its {len(columns)} feature columns is left "
                       "for the model after the exclusions (PAD_EXCLUDE_FEATURES="
                       f"{','.join(config.train.exclude_features)})")
    return _TrainingData(columns, catalog, candidates, read_history(con, candidates),
                         fingerprint_history(con, columns))


def _fit_model(data: _TrainingData, config: MlConfig, timer: _Timer) -> _Fitted:
    """Cross-validation, evaluation, the final model (pruned) and its global importance."""
    tc, history = config.train, data.history
    dataset = build_dataset(history.X, history.y, history.features, tc)
    if tc.final_threads == FOLD_THREADS:
        # the final model grows in the folds' pool (see cross_validate_and_fit)
        cv, full_booster = cross_validate_and_fit(dataset, history.X, history.y, tc)
    else:
        cv = cross_validate(dataset, history.X, history.y, tc)
        full_booster = train_final(dataset, final_tree_count(cv, tc), tc)
    trees = final_tree_count(cv, tc)
    evaluation = evaluate(history.y, cv, tc, config.scaling)
    timer.lap("cross_validation")
    del dataset
    require_splits(full_booster, len(history.y))
    booster, features = prune_unused_features(full_booster)
    timer.lap("final_model")
    trained_at = utc_now()
    version = new_version_id(data.fingerprint, model_params_record(tc, trees), trained_at)
    model = ScoringModel(version, booster, features, evaluation.calibration,
                         evaluation.threshold, evaluation.score_cutoff, config.scaling)
    importance = _importance(model, full_booster, history, config)
    timer.lap("importance")
    return _Fitted(cv, evaluation, trees, model, importance, trained_at)


def _metadata(data: _TrainingData, fitted: _Fitted, decision: GuardDecision,
              config: MlConfig, timer: _Timer, db_path: Path) -> dict:
    """metadata.json of a version: everything needed to score, explain and audit it."""
    model, evaluation = fitted.model, fitted.evaluation
    families = dict(zip(data.catalog["feature_name"], data.catalog["family"], strict=True))
    candidates = set(data.candidates)
    return {
        "model_version": model.version,
        "trained_at": rfc3339(fitted.trained_at),
        "champion_since": None,  # set when a warehouse scored with it is published
        "champion_decision": decision.message,
        "passes_guard": decision.promote,
        "source_db": str(db_path),
        "n_train": len(data.history.y), "n_defaults": int(data.history.y.sum()),
        "data_fingerprint": data.fingerprint,
        "features": model.features,
        "families": {f: families[f] for f in model.features},
        "candidate_features": len(data.candidates),
        "excluded_features": [c for c in data.columns if c not in candidates],
        "params": model_params_record(config.train, fitted.trees), "n_trees": fitted.trees,
        "metrics": evaluation.metrics,
        "fold_auc": fitted.cv.fold_auc, "best_iterations": fitted.cv.best_iterations,
        "threshold": evaluation.threshold, "score_cutoff": evaluation.score_cutoff,
        "calibration": {"method": evaluation.calibration.method,
                        "a": evaluation.calibration.a, "b": evaluation.calibration.b},
        "base_value": base_value_of(model, len(model.features), config.train.threads),
        "score_scaling": scaling_record(config.scaling),
        "importance": fitted.importance,
        "curves": evaluation.curves,
        "seconds": timer.seconds,
    }


def _importance(model: ScoringModel, full_booster, history: FeatureMatrix, config: MlConfig
                ) -> list[dict[str, float | str | int]]:
    """Gain and split counts of the final model, and mean |SHAP| on a fixed sample of history
    rows (a property of the model, so incremental scoring never has to recompute it)."""
    names = full_booster.feature_name()
    gain = dict(zip(names, full_booster.feature_importance("gain"), strict=True))
    splits = dict(zip(names, full_booster.feature_importance("split"), strict=True))
    rng = np.random.default_rng(config.train.seed)
    n = len(history.ids)
    sample = np.sort(rng.choice(n, size=min(n, config.train.importance_sample), replace=False))
    position = {f: j for j, f in enumerate(history.features)}
    X = history.X[np.ix_(sample, [position[f] for f in model.features])]
    shap_mean = mean_abs_shap(model, X, config.train.threads, config.explain.chunk_rows)
    return [{"feature_name": f, "gain": float(gain[f]), "split_count": int(splits[f]),
             "mean_abs_shap": float(s)} for f, s in zip(model.features, shap_mean, strict=True)]


# --- model-level tables -------------------------------------------------------------------------

def write_model_tables(db_path: Path, models_dir: Path, config: MlConfig | None = None,
                       champion_version: str | None = None) -> None:
    """ml.model_runs, model_curves, feature_importance (every registered version),
    ml.feature_dictionary and ml.oof_predictions (the champion's).

    `champion_version` is the model this warehouse is scored with (default: the current
    champion): it is the champion once the warehouse is published, so the tables say so.
    """
    config = config or load_config()
    records, champion = _records_with_champion(Path(models_dir), champion_version)
    con = connect(Path(db_path), threads=config.train.threads)
    try:
        catalog = read_catalog(con, list_feature_columns(con))
        excluded = [f for f in catalog["feature_name"]
                    if f not in set(select_model_features(catalog,
                                                          config.train.exclude_features))]
        replace_model_table(con, "model_runs", model_runs_frame(records, champion))
        replace_model_table(con, "model_curves", model_curves_frame(records))
        replace_model_table(con, "feature_importance", feature_importance_frame(records, catalog))
        replace_model_table(con, "feature_dictionary",
                            feature_dictionary_frame(catalog, champion, excluded))
        replace_model_table(con, "oof_predictions", oof_frame(champion))
    finally:
        con.close()


def _records_with_champion(models_dir: Path, champion_version: str | None
                           ) -> tuple[list[ModelRecord], ModelRecord | None]:
    """Every version, with the one about to be published marked champion from now on."""
    records = list_models(models_dir)
    if champion_version is None:
        return records, find_champion(models_dir)
    champion = get_model(models_dir, champion_version)
    if not champion.champion_since:
        champion = ModelRecord(champion.version, champion.path,
                               {**champion.metadata, "champion_since": rfc3339(utc_now())})
    return [champion if r.version == champion.version else r for r in records], champion


def run_ml(db_path: Path, models_dir: Path, retrain: bool = False,
           previous_db: Path | None = None, config: MlConfig | None = None) -> MlRunResult:
    """Train (when asked or when there is no champion), score, write the model tables, then
    make the scoring model the champion (a standalone run: the database is its publication)."""
    config = config or load_config()
    trained = None
    if retrain or find_champion(Path(models_dir)) is None:
        trained = train_model(db_path, models_dir, config)
    version = trained.scoring_version if trained else None
    scored = score_clients(db_path, models_dir, previous_db=previous_db, config=config,
                           model_version=version)
    write_model_tables(db_path, models_dir, config, champion_version=scored.model_version)
    set_champion(Path(models_dir), scored.model_version,
                 trained.guard_message if trained else "kept")
    return MlRunResult(trained, scored)


def champion_record(models_dir: Path) -> ModelRecord | None:
    """The current champion's registry record (None when no model was promoted)."""
    return find_champion(Path(models_dir))


class _Timer:
    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now
