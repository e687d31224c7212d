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
