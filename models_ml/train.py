"""LightGBM training: stratified K-fold out-of-fold evaluation, the final model, its calibration,
the cost-minimising decision threshold and the evaluation record.

Class imbalance (≈ 8 % defaulters): the model is trained WITHOUT reweighting (no
`scale_pos_weight`, no `is_unbalance`). The binary log loss then estimates the true probability
of default, which the score in points, the risk bands and the advisors' reading of "8 % risk" all
rely on. Reweighting positives by w multiplies the model's odds by roughly w (adds ln w to every
log-odds): the ranking — and so the AUC — barely changes, but every probability is inflated, the
cost-optimal threshold moves from 1/(1 + c) to about w/(w + c) for a cost ratio c, and because
trees and early stopping react to the weights the shift is not exactly affine, so Platt scaling
could only partly undo it. The asymmetry of costs belongs to the decision, not to the loss: it is
handled by choosing the threshold on out-of-fold predictions (false negative = `cost_fn_fp` ×
false positive).

Calibration: Platt scaling fitted on the out-of-fold raw log-odds (a + b·raw). It is affine in
log-odds, so SHAP values stay exact (scaled by b). With an unweighted model it is a small
correction (b ≈ 1); it can be switched off (PAD_CALIBRATION=none).

Tree budget: the final model has the mean of the folds' best iterations, capped at
`max_trees`, because explaining every client costs time in proportion to the number of trees.
Features the final model never splits on are pruned from it (see `prune_unused_features`), so
it reads, hashes and explains only what it uses.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import StratifiedKFold

from models_ml.config import ScoreScaling, TrainConfig
from models_ml.metrics import (
    IDENTITY,
    Calibration,
    brier_score,
    calibration_points,
    choose_threshold,
    costs_at_thresholds,
    fit_platt,
    ks_statistic,
    log_loss,
    precision_recall,
    roc_auc,
    roc_points,
    sigmoid,
)
from models_ml.scaling import cutoff_of_threshold, threshold_grid
from warehouse.errors import BadInput


@dataclass(frozen=True)
class CrossValidation:
    oof_raw: np.ndarray          # raw log-odds of each history row from the fold that held it out
    fold_of_row: np.ndarray      # int8 fold index per row
    fold_auc: list[float]
    best_iterations: list[int]


@dataclass(frozen=True)
class Evaluation:
    calibration: Calibration
    oof_probability: np.ndarray
    threshold: float
    score_cutoff: int
    metrics: dict[str, float]
    curves: dict[str, dict[str, list[float]]]


def require_enough_history(clients: int, defaults: int, config: TrainConfig) -> None:
    """Refuse (BadInput, one line) data too small for a model whose out-of-fold measurements
    mean anything (see TrainConfig.min_history_clients); stratified folds also need a default
    and a repaid client in each fold."""
    need_clients = max(config.min_history_clients, config.folds)
    need_defaults = max(config.min_defaults, config.folds)
    if clients < need_clients or defaults < need_defaults:
        raise BadInput(f"training needs at least {need_clients:,} history clients and "
                       f"{need_defaults:,} defaults; found {clients:,} and {defaults:,} "
                       "(history clients = application_train rows with a TARGET)")
    if clients - defaults < need_defaults:
        raise BadInput(f"training needs at least {need_defaults:,} history clients who repaid; "
                       f"found {clients - defaults:,} among {clients:,}")


def require_splits(booster: lgb.Booster, rows: int) -> None:
    """A model that never splits gives every client the same score: refuse it (BadInput)."""
    if booster.num_trees() == 0 or int(booster.feature_importance("split").sum()) == 0:
        raise BadInput(f"training found no feature that separates defaulters from the others "
                       f"among {rows:,} history clients; no model was registered")


def build_dataset(X: np.ndarray, y: np.ndarray, features: list[str], config: TrainConfig
                  ) -> lgb.Dataset:
    """One binned LightGBM dataset; folds are subsets of it, so binning happens once."""
    dataset = lgb.Dataset(X, label=y, feature_name=features, params=config.lgb_params(),
                          free_raw_data=False)
    return dataset.construct()


# LightGBM keeps its thread count in ONE process-wide variable, set from `num_threads` by every
# C API call (dataset construction, booster creation, prediction). Its code sizes per-thread
# buffers with one read of that variable and starts the parallel loop with another, so a call
# from one Python thread with another thread count while a second thread is inside LightGBM
# makes the second index past its buffers: the intermittent segfault of issue 9, caught in gdb
# as fold A in LGBM_BoosterCreate → PushDataToMultiValBin (buffers for 1 thread, loop on 2)
# while fold B's lazy `subset().construct()` (LGBM_DatasetGetSubset, num_threads = the parent's
# 2) ran. Hence: every fold's datasets are built before the threads start, and inside the
# threads every LightGBM call uses this one thread count.
FOLD_THREADS = 1


def cut_fold_datasets(dataset: lgb.Dataset, folds: list[tuple[np.ndarray, np.ndarray]]
                      ) -> list[tuple[lgb.Dataset, lgb.Dataset]]:
    """(train, validation) datasets of every fold, cut from the binned dataset in the calling
    thread (the copy of binned rows runs on all `config.threads` while nothing else runs)."""
    cut = []
    for train_idx, valid_idx in folds:
        pair = []
        for rows in (train_idx, valid_idx):
            subset = dataset.subset(np.sort(rows))
            # the fold's binned rows are all it needs: no second float copy of its raw rows
            subset.free_raw_data = True
            pair.append(subset.construct())
        cut.append((pair[0], pair[1]))
    return cut


def cross_validate(dataset: lgb.Dataset, X: np.ndarray, y: np.ndarray, config: TrainConfig
                   ) -> CrossValidation:
    """Stratified K-fold with early stopping on the held-out fold's AUC (see
    `cross_validate_and_fit`, which also grows the final model in the same pool)."""
    return _run_folds(dataset, X, y, config, final=False)[0]


def cross_validate_and_fit(dataset: lgb.Dataset, X: np.ndarray, y: np.ndarray,
                           config: TrainConfig) -> tuple[CrossValidation, lgb.Booster]:
    """The cross-validation and the final model (`final_tree_count` trees on every row).

    Folds train in parallel, `config.threads` at a time, each with ONE LightGBM thread:
    LightGBM's own OpenMP parallelism synchronises its threads hundreds of times per tree, and on
    a 2-core machine shared with DuckDB, dbt or the API one late thread stalls all of them
    (measured here: 3-30x slower than single-threaded). Independent folds need no
    synchronisation (LightGBM releases the GIL while it trains), and the result does not depend
    on the number of workers. Their datasets are cut beforehand (see FOLD_THREADS for why).

    The final model is one more job of the same pool, queued after the folds: with 5 folds on
    2 workers the last fold would otherwise run alone while the other core idles, and the final
    model would then run alone too. It starts growing trees before the last fold knows its best
    iteration and is cut to `final_tree_count` trees when all are known: boosting is sequential
    and bagging draws per iteration, so the first n trees of a longer run are the model n
    rounds would have grown (the same trees, the same predictions).
    """
    cv, booster = _run_folds(dataset, X, y, config, final=True)
    assert booster is not None
    return cv, booster


def _run_folds(dataset: lgb.Dataset, X: np.ndarray, y: np.ndarray, config: TrainConfig,
               final: bool) -> tuple[CrossValidation, lgb.Booster | None]:
    splitter = StratifiedKFold(n_splits=config.folds, shuffle=True, random_state=config.seed)
    folds = list(splitter.split(np.zeros(len(y)), y))
    fold_sets = cut_fold_datasets(dataset, folds)
    params = config.lgb_params(threads=FOLD_THREADS)

    def run_fold(fold: int) -> tuple[int, np.ndarray]:
        train_set, valid_set = fold_sets[fold]
        booster = lgb.train(
            params, train_set, num_boost_round=config.max_rounds,
            valid_sets=[valid_set], valid_names=["valid"],
            callbacks=[lgb.early_stopping(config.early_stopping_rounds, first_metric_only=True,
                                          verbose=False)])
        iterations = booster.best_iteration or booster.current_iteration()
        raw = booster.predict(X[folds[fold][1]], raw_score=True, num_iteration=iterations,
                              num_threads=FOLD_THREADS)
        return int(iterations), raw

    jobs = len(folds) + (1 if final else 0)
    with ThreadPoolExecutor(max_workers=max(1, min(config.threads, jobs))) as pool:
        fold_jobs = [pool.submit(run_fold, fold) for fold in range(len(folds))]
        # queued last: when it starts, every fold has started, so waiting for them cannot
        # deadlock the pool
        final_job = pool.submit(_grow_final, dataset, params, fold_jobs, config) if final \
            else None
        results = [job.result() for job in fold_jobs]
        booster = final_job.result() if final_job else None
    oof = np.zeros(len(y), dtype=np.float64)
    fold_of_row = np.zeros(len(y), dtype=np.int8)
    for fold, ((_, valid_idx), (_, raw)) in enumerate(zip(folds, results, strict=True)):
        oof[valid_idx] = raw
        fold_of_row[valid_idx] = fold
    fold_auc = [roc_auc(y[valid_idx], oof[valid_idx]) for _, valid_idx in folds]
    return CrossValidation(oof, fold_of_row, fold_auc, [it for it, _ in results]), booster


def _grow_final(dataset: lgb.Dataset, params: dict[str, object],
                fold_jobs: list[Future[tuple[int, np.ndarray]]], config: TrainConfig
                ) -> lgb.Booster:
    """The final model: trees are added one round at a time until the folds have all
    reported (at most `config.max_trees` ahead of them), then it is cut or grown to
    `final_tree_count` trees."""
    booster = lgb.train(params, dataset, num_boost_round=1, keep_training_booster=True)
    while True:
        reported = all(job.done() for job in fold_jobs)
        limit = _final_trees(fold_jobs, config) if reported else config.max_trees
        if booster.current_iteration() >= limit:
            if reported:
                break
            wait(fold_jobs)
        elif booster.update():  # no split left to make: lgb.train would stop here too
            break
    wait(fold_jobs)
    trees = min(booster.current_iteration(), _final_trees(fold_jobs, config))
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))


def _final_trees(fold_jobs: list[Future[tuple[int, np.ndarray]]], config: TrainConfig) -> int:
    return tree_count([job.result()[0] for job in fold_jobs], config)


def tree_count(best_iterations: list[int], config: TrainConfig) -> int:
    """Trees of the final model: the mean of the folds' best iterations, capped at max_trees."""
    return int(min(max(round(float(np.mean(best_iterations))), 1), config.max_trees))


def final_tree_count(cv: CrossValidation, config: TrainConfig) -> int:
    return tree_count(cv.best_iterations, config)


def train_final(dataset: lgb.Dataset, trees: int, config: TrainConfig) -> lgb.Booster:
    """The model that scores every client: all history rows, a fixed number of trees
    (`config.final_threads` LightGBM threads, see cross_validate for why not more)."""
    return lgb.train(config.lgb_params(threads=config.final_threads), dataset,
                     num_boost_round=trees)


def evaluate(y: np.ndarray, cv: CrossValidation, config: TrainConfig, scaling: ScoreScaling
             ) -> Evaluation:
    """Calibration, threshold, metrics and curves, all from out-of-fold predictions."""
    calibration = fit_platt(cv.oof_raw, y) if config.calibration == "platt" else IDENTITY
    log_odds = calibration.apply(cv.oof_raw)
    p = sigmoid(log_odds)
    _cutoffs, thresholds = threshold_grid(log_odds, scaling)
    choice = choose_threshold(y, p, thresholds, cost_fn=config.cost_fn_fp)
    precision, recall = precision_recall(y, p, choice.threshold)
    metrics = {
        "oof_auc": roc_auc(y, p),
        "fold_auc_mean": float(np.mean(cv.fold_auc)),
        "fold_auc_std": float(np.std(cv.fold_auc, ddof=1)) if len(cv.fold_auc) > 1 else 0.0,
        "brier": brier_score(y, p),
        "log_loss": log_loss(y, p),
        "ks": ks_statistic(y, p),
        "expected_cost": choice.expected_cost,
        "precision": precision,
        "recall": recall,
        "refusal_rate": float(np.mean(p > choice.threshold)),
        "default_rate": float(np.mean(y)),
    }
    return Evaluation(calibration, p, choice.threshold,
                      cutoff_of_threshold(choice.threshold, scaling), metrics,
                      build_curves(y, p, thresholds, config.cost_fn_fp))


def build_curves(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray, cost_fn: float
                 ) -> dict[str, dict[str, list[float]]]:
    """ROC, calibration and cost-vs-threshold points (x, y) for the model page."""
    fpr, tpr = roc_points(y, p)
    predicted, observed = calibration_points(y, p)
    # the cost curve on a readable range: thresholds up to the 99.5th percentile of predictions
    upper = float(np.quantile(p, 0.995))
    grid = np.unique(np.concatenate([thresholds[thresholds <= upper],
                                     np.linspace(0.0, upper, 101)]))
    if len(grid) > 301:
        grid = grid[np.unique(np.linspace(0, len(grid) - 1, 301).round().astype(int))]
    costs = costs_at_thresholds(y, p, grid, cost_fn)
    return {
        "roc": {"x": fpr.tolist(), "y": tpr.tolist()},
        "calibration": {"x": predicted.tolist(), "y": observed.tolist()},
        "cost": {"x": grid.tolist(), "y": costs.tolist()},
    }


def prune_unused_features(booster: lgb.Booster) -> tuple[lgb.Booster, list[str]]:
    """The same model re-indexed on the features it splits on (predictions unchanged).

    LightGBM's text format names features once (feature_names, feature_infos) and refers to them
    by index in each tree's split_feature line; dropping the unused ones is a re-indexing.
    """
    names = booster.feature_name()
    used = booster.feature_importance("split") > 0
    if used.all():
        return booster, names
    new_index = np.cumsum(used) - 1
    # tree_sizes (byte offsets of the trees) would be stale after re-indexing; without it
    # LightGBM parses the trees sequentially
    lines = [line for line in booster.model_to_string().split("\n")
             if not line.startswith("tree_sizes=")]
    for i, line in enumerate(lines):
        if line.startswith("max_feature_idx="):
            lines[i] = f"max_feature_idx={int(used.sum()) - 1}"
        elif line.startswith("feature_names="):
            lines[i] = "feature_names=" + " ".join(n for n, u in zip(names, used, strict=True) if u)
        elif line.startswith("feature_infos="):
            infos = line[len("feature_infos="):].split(" ")
            lines[i] = "feature_infos=" + " ".join(f for f, u in zip(infos, used, strict=True) if u)
        elif line.startswith("split_feature="):
            old = [int(v) for v in line[len("split_feature="):].split(" ") if v]
            lines[i] = "split_feature=" + " ".join(str(new_index[v]) for v in old)
    pruned = lgb.Booster(model_str="\n".join(lines))
    kept = [n for n, u in zip(names, used, strict=True) if u]
    if pruned.feature_name() != kept:
        raise RuntimeError("pruning the model's features changed their names")
    return pruned, kept


def model_params_record(config: TrainConfig, trees: int) -> dict[str, object]:
    """The parameters stored in metadata.json and ml.model_runs.params."""
    params = {k: v for k, v in config.lgb_params().items() if k not in ("verbosity",)}
    params.update({
        "n_estimators": trees, "folds": config.folds, "max_rounds": config.max_rounds,
        "early_stopping_rounds": config.early_stopping_rounds, "max_trees": config.max_trees,
        "cost_fn_fp": config.cost_fn_fp, "exclude_features": list(config.exclude_features),
        "calibration": config.calibration, "class_weighting": "none",
    })
    return params

