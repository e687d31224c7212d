"""Data too small or too poor for a model: training refuses with one clear line (BadInput) and
registers nothing; data just big enough trains a real model; an existing champion scores any
input, however small, without training; hashing SQL is safe with no features at all."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from models_ml.config import ExplainConfig, MlConfig, TrainConfig
from models_ml.features import connect, create_row_hashes, fingerprint_history
from models_ml.pipeline import run_ml, score_clients, train_model
from models_ml.registry import find_champion, list_models
from tests.models_ml.conftest import Warehouse, small_config
from tests.models_ml.synthetic import FEATURES, write_feature_mart
from warehouse.errors import BadInput, RunFailure


def edit_mart(db: Path, sql: str) -> tuple[int, int]:
    """Apply `sql` to the mart; returns (history clients, defaults) afterwards."""
    con = duckdb.connect(str(db))
    try:
        con.execute(sql)
        clients, defaults = con.execute(
            "select count(*), sum(target) from marts.client_features "
            "where population = 'history' and target is not null").fetchall()[0]
    finally:
        con.close()
    return int(clients), int(defaults or 0)


def assert_refused(db: Path, models: Path, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        train_model(db, models, small_config())
    assert str(refused.value) == message
    assert "\n" not in str(refused.value)
    assert list_models(models) == [] and find_champion(models) is None


def test_too_few_history_clients_is_refused_naming_both_counts(tmp_path: Path) -> None:
    db = tmp_path / "tiny.duckdb"
    write_feature_mart(db, clients=240)
    clients, defaults = edit_mart(db, "select 1")
    assert clients < 1000 and 0 < defaults < 50
    assert_refused(db, tmp_path / "models",
                   f"training needs at least 1,000 history clients and 50 defaults; found "
                   f"{clients} and {defaults} (history clients = application_train rows with a "
                   "TARGET)")


def test_history_without_a_single_default_is_refused(mart_db: Path, tmp_path: Path) -> None:
    clients, defaults = edit_mart(mart_db, "update marts.client_features set target = 0 "
                                           "where target is not null")
    assert defaults == 0
    assert_refused(mart_db, tmp_path / "models",
                   f"training needs at least 1,000 history clients and 50 defaults; found "
                   f"{clients:,} and 0 (history clients = application_train rows with a TARGET)")


def test_history_where_everyone_defaulted_is_refused(mart_db: Path, tmp_path: Path) -> None:
    clients, _ = edit_mart(mart_db, "update marts.client_features set target = 1 "
                                    "where target is not null")
    assert_refused(mart_db, tmp_path / "models",
                   f"training needs at least 50 history clients who repaid; found 0 among "
                   f"{clients:,}")


def test_the_minimum_is_configurable() -> None:
    from models_ml.config import load_config

    train = load_config({"PAD_ML_MIN_HISTORY": "150", "PAD_ML_MIN_DEFAULTS": "12"}).train
    assert (train.min_history_clients, train.min_defaults) == (150, 12)
    with pytest.raises(BadInput, match="PAD_ML_MIN_DEFAULTS"):
        load_config({"PAD_ML_MIN_DEFAULTS": "many"})


def test_features_that_never_split_are_refused_not_a_zero_feature_model(
        mart_db: Path, tmp_path: Path) -> None:
    """Every feature missing (no child rows and no application field): LightGBM finds no
    split, and a one-leaf model would give every client the same score."""
    clients, _ = edit_mart(mart_db, "update marts.client_features set "
                           + ", ".join(f"{f} = null" for f in FEATURES))
    assert_refused(mart_db, tmp_path / "models",
                   "training found no feature that separates defaulters from the others among "
                   f"{clients:,} history clients; no model was registered")


def test_an_all_missing_column_is_left_out_and_the_rest_trains(mart_db: Path, tmp_path: Path
                                                               ) -> None:
    edit_mart(mart_db, "update marts.client_features set app_ext_source_3 = null")
    result = run_ml(mart_db, tmp_path / "models", retrain=True, config=small_config())
    meta = find_champion(tmp_path / "models").metadata
    assert "app_ext_source_3" not in meta["features"] and "app_ext_source_2" in meta["features"]
    assert result.trained.metrics["oof_auc"] > 0.75
    assert result.scored.clients == 3000


def test_clients_without_any_child_row_train_on_the_application_alone(
        mart_db: Path, tmp_path: Path) -> None:
    """No bureau, previous application, POS, card or instalment row for anyone: every
    history feature is missing, and the application features still make a model."""
    history = [f for f, (table, *_) in FEATURES.items() if table != "application"]
    edit_mart(mart_db, "update marts.client_features set "
              + ", ".join(f"{f} = null" for f in history))
    result = run_ml(mart_db, tmp_path / "models", retrain=True, config=small_config())
    features = find_champion(tmp_path / "models").metadata["features"]
    assert features and not set(features) & set(history)
    assert result.trained.metrics["oof_auc"] > 0.7 and result.scored.clients == 3000


def test_a_portfolio_just_above_the_minimum_trains_a_real_model(tmp_path: Path) -> None:
    """1,300 clients (≈ 1,100 history, ≈ 140 defaults) with the production tree settings
    (min_child_samples 100, early stopping 50): several trees, scores that rank."""
    db = tmp_path / "small.duckdb"
    write_feature_mart(db, clients=1300, seed=3)
    clients, defaults = edit_mart(db, "select 1")
    assert 1000 <= clients < 1300 and defaults >= 50
    config = MlConfig(train=TrainConfig(threads=2, importance_sample=1000),
                      explain=ExplainConfig(chunk_rows=700))
    result = run_ml(db, tmp_path / "models", retrain=True, config=config)
    assert result.trained.n_trees >= 10 and result.trained.n_features >= 4
    assert result.trained.metrics["oof_auc"] > 0.75
    con = duckdb.connect(str(db), read_only=True)
    try:
        distinct = con.execute("select count(distinct score) from ml.client_scores").fetchone()[0]
    finally:
        con.close()
    assert distinct > 50


def test_an_existing_champion_scores_a_tiny_input_without_training(
        scored_warehouse: Warehouse, tmp_path: Path) -> None:
    """A PAD_HOME holding only models/ scores with that champion and does not train."""
    home = scored_warehouse.copy_to(tmp_path / "home")
    tiny = tmp_path / "tiny.duckdb"
    write_feature_mart(tiny, clients=12, seed=99)
    before = [r.version for r in list_models(home.models)]
    result = run_ml(tiny, home.models, config=small_config())
    assert result.trained is None
    assert [r.version for r in list_models(home.models)] == before
    assert result.scored.clients == 12 and result.scored.model_version == before[0]
    again = score_clients(tiny, home.models, previous_db=tiny, config=small_config())
    assert (again.rescored, again.reused) == (0, 12)


def test_a_champion_without_features_from_an_earlier_version_asks_for_a_retrain(
        warehouse_copy: Warehouse) -> None:
    """What the 199-row refresh of issue 9 left behind: a one-leaf model with 0 features."""
    import json

    import lightgbm as lgb

    from models_ml.train import prune_unused_features

    X, y = np.ones((200, 3), dtype=np.float32), np.arange(200) % 2
    stump = lgb.train({"objective": "binary", "verbosity": -1}, lgb.Dataset(X, y), 1)
    booster, kept = prune_unused_features(stump)
    assert kept == []
    champion = find_champion(warehouse_copy.models)
    (champion.path / "model.txt").write_text(booster.model_to_string())
    meta = json.loads((champion.path / "metadata.json").read_text())
    (champion.path / "metadata.json").write_text(json.dumps({**meta, "features": [],
                                                             "families": {}}))
    with pytest.raises(RunFailure) as refused:
        score_clients(warehouse_copy.db, warehouse_copy.models, config=small_config())
    assert str(refused.value) == (f"model {champion.version} uses no feature and cannot "
                                  "explain a score; retrain (pad refresh --retrain)")


def test_hashes_bind_without_any_feature(mart_db: Path) -> None:
    con = connect(mart_db)
    try:
        create_row_hashes(con, [], "_hashes")
        rows, distinct = con.execute(
            "select count(*), count(distinct feature_hash) from _hashes").fetchone()
        assert (rows, distinct) == (3000, 1)
        assert fingerprint_history(con, []) != fingerprint_history(con, ["app_noise_1"])
    finally:
        con.close()


def test_cross_validation_is_deterministic_and_independent_of_the_workers() -> None:
    from models_ml.train import build_dataset, cross_validate

    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 30)).astype(np.float32)
    X[:, 10:][rng.random((3000, 20)) < 0.9] = 0.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-(X[:, 0] - 2)))).astype(np.int8)
    names = [f"f{i}" for i in range(30)]
    runs = []
    for threads in (2, 2, 1):
        config = TrainConfig(folds=4, threads=threads, min_child_samples=20, max_rounds=60,
                             early_stopping_rounds=10)
        runs.append(cross_validate(build_dataset(X, y, names, config), X, y, config))
    for run in runs[1:]:
        np.testing.assert_array_equal(run.oof_raw, runs[0].oof_raw)
        assert run.best_iterations == runs[0].best_iterations
