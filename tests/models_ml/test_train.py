"""Model surgery and SHAP: pruning keeps predictions, pred_contrib is TreeSHAP and adds up."""
from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_model() -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 12)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    # constant columns, in the middle and at the end, can never be split on
    X[:, [2, 5, 10, 11]] = 1.0
    logit = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 3]) + 0.5 * np.nan_to_num(X[:, 7])
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.1, "verbosity": -1,
              "feature_fraction": 0.5, "min_child_samples": 200, "seed": 1, "num_threads": 2}
    booster = lgb.train(params, lgb.Dataset(X, y, feature_name=[f"f{i}" for i in range(12)]),
                        num_boost_round=40)
    return booster, X


def test_pruning_drops_unused_features_and_keeps_predictions(small_model) -> None:
    from models_ml.train import prune_unused_features

    booster, X = small_model
    used = booster.feature_importance("split") > 0
    assert not used[[2, 5, 10, 11]].any() and used[[0, 3, 7]].all()
    pruned, kept = prune_unused_features(booster)
    assert kept == [n for n, u in zip(booster.feature_name(), used, strict=True) if u]
    assert (pruned.feature_importance("split") > 0).all()
    np.testing.assert_array_equal(pruned.predict(X[:, used], raw_score=True),
                                  booster.predict(X, raw_score=True))
    # the pruned model survives a save/load round trip
    reloaded = lgb.Booster(model_str=pruned.model_to_string())
    np.testing.assert_array_equal(reloaded.predict(X[:, used], raw_score=True),
                                  booster.predict(X, raw_score=True))


def test_pred_contrib_is_tree_shap_and_adds_up_to_the_raw_score(small_model) -> None:
    import shap

    booster, X = small_model
    contrib = booster.predict(X[:500], pred_contrib=True)
    raw = booster.predict(X[:500], raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)
    explainer = shap.TreeExplainer(booster)
    np.testing.assert_allclose(contrib[:, :-1], explainer.shap_values(X[:500]), atol=1e-6)
    assert contrib[0, -1] == pytest.approx(float(np.ravel(explainer.expected_value)[0]), abs=1e-6)


@pytest.mark.parametrize("max_trees", [350, 6])
def test_final_model_grown_beside_the_folds_is_the_model_trained_after_them(max_trees) -> None:
    """The final model grown in the folds' pool (cut once every fold has reported, or capped
    by max_trees) has the trees, and so the predictions, of lgb.train run after the folds."""
    from models_ml.config import TrainConfig
    from models_ml.train import (
        FOLD_THREADS,
        build_dataset,
        cross_validate,
        cross_validate_and_fit,
        final_tree_count,
    )

    rng = np.random.default_rng(3)
    X = rng.normal(size=(4000, 20)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (rng.random(4000) < 1 / (1 + np.exp(-(np.nan_to_num(X[:, 0]) - 2.5)))).astype(np.int8)
    names = [f"f{i}" for i in range(20)]
    config = TrainConfig(folds=3, threads=2, min_child_samples=20, max_trees=max_trees,
                         early_stopping_rounds=10)
    cv, booster = cross_validate_and_fit(build_dataset(X, y, names, config), X, y, config)
    alone = cross_validate(build_dataset(X, y, names, config), X, y, config)
    assert cv.best_iterations == alone.best_iterations
    np.testing.assert_array_equal(cv.oof_raw, alone.oof_raw)
    trees = final_tree_count(cv, config)
    assert booster.num_trees() == trees <= max_trees
    after = lgb.train(config.lgb_params(threads=FOLD_THREADS), build_dataset(X, y, names, config),
                      num_boost_round=trees)
    np.testing.assert_array_equal(booster.predict(X, raw_score=True),
                                  after.predict(X, raw_score=True))


def test_contributions_computed_ahead_come_in_order_and_equal_one_call(small_model) -> None:
    """The scoring loop's TreeSHAP, chunks explained two at a time with one LightGBM thread
    each, gives every chunk, in order, the values of one call over all rows on two threads."""
    from models_ml.batch_scoring import contributions_ahead
    from models_ml.config import ScoreScaling
    from models_ml.explain import ScoringModel, compute_contributions
    from models_ml.features import FeatureMatrix
    from models_ml.metrics import Calibration

    booster, X = small_model
    model = ScoringModel("v", booster, booster.feature_name(), Calibration("platt", -0.2, 1.1),
                         0.1, 560, ScoreScaling())
    ids = np.arange(len(X))
    chunks = [FeatureMatrix(ids[s:s + 250], X[s:s + 250].astype(np.float64), None,
                            model.features) for s in range(0, len(X), 250)]
    got = list(contributions_ahead(model, iter(chunks), workers=2))
    assert [c.ids[0] for c, _ in got] == [c.ids[0] for c in chunks]
    shap_values, base = compute_contributions(model, X, threads=2)
    np.testing.assert_array_equal(np.vstack([v for _, (v, _) in got]), shap_values)
    np.testing.assert_array_equal(np.concatenate([b for _, (_, b) in got]), base)
