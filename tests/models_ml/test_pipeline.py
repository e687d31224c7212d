"""End to end on a synthetic mart: train → score → explain → ml.* tables; exactness of the
explanations, reasons, incremental scoring and the champion guard."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml.families import PROTECTED_FAMILIES
from models_ml.pipeline import score_clients, train_model, write_model_tables
from models_ml.registry import find_champion, list_models, set_champion
from models_ml.store import CLIENT_TABLES, MODEL_TABLES
from tests.models_ml.conftest import Warehouse, small_config
from tests.models_ml.synthetic import FEATURES, update_clients
from warehouse.errors import RunFailure

CLIENTS = 3000


def query(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def champion_meta(models: Path) -> dict:
    return find_champion(models).metadata


def test_every_ml_table_is_written_with_its_columns(scored_warehouse: Warehouse) -> None:
    for table in [*CLIENT_TABLES, *MODEL_TABLES]:
        columns = query(scored_warehouse.db, f"describe ml.{table}")["column_name"].tolist()
        con = duckdb.connect()
        con.execute(f"create table t ({({**CLIENT_TABLES, **MODEL_TABLES}[table])})")
        assert columns == con.sql("describe t").df()["column_name"].tolist(), table
    counts = query(scored_warehouse.db, "select (select count(*) from ml.client_scores) s, "
                   "(select count(distinct sk_id_curr) from ml.client_scores) d, "
                   "(select count(*) from ml.model_runs) r")
    assert counts.iloc[0].tolist() == [CLIENTS, CLIENTS, 1]


def test_model_artifacts_and_metrics(scored_warehouse: Warehouse) -> None:
    record = find_champion(scored_warehouse.models)
    assert {p.name for p in record.path.iterdir()} == {"model.txt", "metadata.json",
                                                        "oof.parquet"}
    meta = record.metadata
    assert meta["champion_decision"] == "promoted: no champion yet"
    assert meta["params"]["class_weighting"] == "none"
    assert 0.7 < meta["metrics"]["oof_auc"] < 0.95
    assert 0 < meta["threshold"] < 0.5
    assert meta["n_trees"] <= 150 and len(meta["best_iterations"]) == 3
    # gender is excluded from the model by default; the noise features are pruned or weak
    assert "app_code_gender_m" not in meta["features"]
    assert "app_code_gender_m" in meta["excluded_features"]
    assert set(meta["features"]) <= set(FEATURES)
    runs = query(scored_warehouse.db, "select * from ml.model_runs")
    assert runs["is_champion"].tolist() == [True]
    assert runs["n_features"].iloc[0] == len(meta["features"])
    assert json.loads(runs["params"].iloc[0])["n_estimators"] == meta["n_trees"]
    curves = query(scored_warehouse.db, "select curve, count(*) n from ml.model_curves group by 1")
    assert set(curves["curve"]) == {"roc", "calibration", "cost"}


def test_contributions_plus_base_value_give_the_log_odds_and_points_the_score(
        scored_warehouse: Warehouse) -> None:
    frame = query(scored_warehouse.db, """
        select s.sk_id_curr, s.log_odds, s.base_value, s.score, s.probability_default,
               f.shap_sum, f.points_sum, r.base_points, r.score_offset, r.score_factor
        from ml.client_scores s
        join (select sk_id_curr, sum(shap_value) shap_sum, sum(points) points_sum
              from ml.client_families group by 1) f using (sk_id_curr)
        cross join (select * from ml.model_runs where is_champion) r""")
    np.testing.assert_allclose(frame["base_value"] + frame["shap_sum"], frame["log_odds"],
                               rtol=0, atol=1e-9)
    unrounded = frame["base_points"] + frame["points_sum"]
    np.testing.assert_allclose(unrounded, frame["score_offset"] - frame["score_factor"]
                               * frame["log_odds"], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(np.rint(unrounded).astype(int), frame["score"])
    np.testing.assert_allclose(frame["probability_default"],
                               1 / (1 + np.exp(-frame["log_odds"])), rtol=1e-12)


def test_contributions_match_the_booster_on_the_stored_feature_values(
        scored_warehouse: Warehouse) -> None:
    """Independent check: recompute the champion's raw score from the mart and compare."""
    from models_ml.registry import load_scoring_model

    model = load_scoring_model(find_champion(scored_warehouse.models))
    columns = ", ".join(model.features)
    mart = query(scored_warehouse.db, f"select sk_id_curr, {columns} from marts.client_features "
                                      "order by sk_id_curr limit 200")
    raw = model.booster.predict(mart[model.features].to_numpy(np.float32), raw_score=True)
    scores = query(scored_warehouse.db, "select sk_id_curr, log_odds from ml.client_scores "
                                        "order by sk_id_curr limit 200")
    np.testing.assert_allclose(model.calibration.apply(raw), scores["log_odds"], atol=1e-9)


def test_drivers_are_the_largest_contributions(scored_warehouse: Warehouse) -> None:
    drivers = query(scored_warehouse.db, "select * from ml.client_drivers")
    per_client = drivers.groupby("sk_id_curr")
    assert per_client["rank"].max().max() <= 20
    # ranks are 1..n without gaps, ordered by |shap|
    for _, group in list(per_client)[:300]:
        group = group.sort_values("rank")
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert (np.diff(group["shap_value"].abs().to_numpy()) <= 1e-15).all()
    factor = champion_meta(scored_warehouse.models)["score_scaling"]["factor"]
    np.testing.assert_allclose(drivers["points"], -factor * drivers["shap_value"])
    # feature values are the mart's (null = missing)
    mart = query(scored_warehouse.db, "select sk_id_curr, app_ext_source_3 from "
                                      "marts.client_features")
    joined = drivers[drivers["feature_name"] == "app_ext_source_3"].merge(mart, on="sk_id_curr")
    # exact values (float64), not the float32 rounding the model is fed
    np.testing.assert_array_equal(joined["feature_value"], joined["app_ext_source_3"])
    assert joined["feature_value"].isna().any()


def test_reasons_are_risk_increasing_families_never_protected(scored_warehouse: Warehouse
                                                               ) -> None:
    reasons = query(scored_warehouse.db, "select * from ml.client_reasons")
    families = query(scored_warehouse.db, "select * from ml.client_families")
    assert set(reasons["family"]).isdisjoint(PROTECTED_FAMILIES)
    assert (reasons["points"] <= -1.0).all()
    assert reasons.groupby("sk_id_curr")["rank"].max().max() <= 4
    # age does raise the risk of young clients in this data, yet is never a reason
    age = families[families["family"] == "age"]
    assert (age["points"] < -1.0).sum() > 100
    # each client's reasons are its costliest citable families, in order
    citable = families[~families["family"].isin(PROTECTED_FAMILIES) & (families["points"] <= -1)]
    expected = (citable.sort_values(["sk_id_curr", "points"])
                .groupby("sk_id_curr").head(4).groupby("sk_id_curr")["family"].apply(list))
    got = reasons.sort_values(["sk_id_curr", "rank"]).groupby("sk_id_curr")["family"].apply(list)
    pd.testing.assert_series_equal(got, expected.loc[got.index])
    assert len(got) == len(expected)
    assert reasons["reason_text"].str.len().min() > 10


def test_decisions_thresholds_and_bands_are_consistent(scored_warehouse: Warehouse) -> None:
    scores = query(scored_warehouse.db, "select * from ml.client_scores")
    refuse = scores["decision"] == "refuse"
    assert (refuse == (scores["probability_default"] > scores["threshold"])).all()
    assert (refuse == (scores["score"] <= scores["score_cutoff"])).all()
    assert 0 < refuse.mean() < 1
    bands = pd.cut(scores["score"], [-np.inf, 519, 539, 559, 579, np.inf],
                   labels=["E", "D", "C", "B", "A"]).astype(str)
    assert (bands == scores["risk_band"]).all()


def test_feature_tables(scored_warehouse: Warehouse) -> None:
    dictionary = query(scored_warehouse.db, "select * from ml.feature_dictionary")
    assert len(dictionary) == len(FEATURES)
    assert dictionary.set_index("feature_name").loc["app_code_gender_m", "excluded"]
    assert dictionary.set_index("feature_name").loc["app_days_birth", "family"] == "age"
    importance = query(scored_warehouse.db, "select * from ml.feature_importance order by rank")
    assert importance["rank"].tolist() == list(range(1, len(importance) + 1))
    assert importance["feature_name"].iloc[0] in {"app_ext_source_2", "app_ext_source_3",
                                                 "inst_late_rate"}
    oof = query(scored_warehouse.db, "select * from ml.oof_predictions")
    assert len(oof) == query(scored_warehouse.db, "select count(*) n from marts.client_features "
                                                  "where population = 'history'")["n"].iloc[0]


def test_scoring_needs_a_champion(mart_db: Path, tmp_path: Path) -> None:
    with pytest.raises(RunFailure, match="no champion"):
        score_clients(mart_db, tmp_path / "models", config=small_config())


def snapshot(db: Path) -> dict[str, pd.DataFrame]:
    order = {"client_scores": "sk_id_curr", "client_drivers": "sk_id_curr, rank",
             "client_families": "sk_id_curr, family", "client_reasons": "sk_id_curr, rank"}
    return {t: query(db, f"select * from ml.{t} order by {o}").reset_index(drop=True)
            for t, o in order.items()}


def test_unchanged_clients_are_copied_not_recomputed(warehouse_copy: Warehouse) -> None:
    before = snapshot(warehouse_copy.db)
    result = score_clients(warehouse_copy.db, warehouse_copy.models,
                           previous_db=warehouse_copy.db, config=small_config())
    assert (result.rescored, result.reused, result.clients) == (0, CLIENTS, CLIENTS)
    after = snapshot(warehouse_copy.db)
    for table, frame in before.items():
        pd.testing.assert_frame_equal(after[table], frame, check_like=True)


def test_changed_clients_are_rescored_from_a_previous_warehouse(warehouse_copy: Warehouse,
                                                                 tmp_path: Path) -> None:
    previous = tmp_path / "published.duckdb"
    shutil.copy(warehouse_copy.db, previous)
    before = snapshot(previous)["client_scores"].set_index("sk_id_curr")
    changed = before.index[:5].tolist()
    update_clients(warehouse_copy.db, changed, "inst_late_rate", 0.9)
    result = score_clients(warehouse_copy.db, warehouse_copy.models, previous_db=previous,
                           config=small_config())
    assert (result.rescored, result.reused) == (5, CLIENTS - 5)
    after = snapshot(warehouse_copy.db)["client_scores"].set_index("sk_id_curr")
    # a late-payment rate of 90 % can only raise the risk (it may already be past the model's
    # last split for some clients)
    raised = after.loc[changed, "probability_default"] - before.loc[changed, "probability_default"]
    assert (raised >= -1e-12).all() and (raised > 1e-6).sum() >= 3
    unchanged = before.index[5:]
    pd.testing.assert_frame_equal(after.loc[unchanged], before.loc[unchanged], check_like=True)
    # the previous file was only read
    assert snapshot(previous)["client_scores"].set_index("sk_id_curr").equals(before)


def test_a_new_model_version_rescores_everyone(warehouse_copy: Warehouse) -> None:
    trained = train_model(warehouse_copy.db, warehouse_copy.models, config=small_config())
    result = score_clients(warehouse_copy.db, warehouse_copy.models,
                           previous_db=warehouse_copy.db, config=small_config(),
                           model_version=trained.scoring_version)
    assert result.model_version == trained.model_version
    assert (result.rescored, result.reused) == (CLIENTS, 0)


def test_champion_guard_keeps_the_champion_against_a_worse_retrain(
        warehouse_copy: Warehouse) -> None:
    champion = find_champion(warehouse_copy.models).version
    # the same data and settings give the same model quality: it passes the guard, and the run
    # scores with it, but training alone promotes nothing (publishing does)
    same = train_model(warehouse_copy.db, warehouse_copy.models, config=small_config())
    assert same.passes_guard and same.scoring_version == same.model_version
    assert "same data fingerprint" in same.guard_message
    assert find_champion(warehouse_copy.models).version == champion
    meta = json.loads((warehouse_copy.models / same.model_version / "metadata.json").read_text())
    assert meta["champion_since"] is None and meta["passes_guard"] is True
    set_champion(warehouse_copy.models, same.model_version, same.guard_message)  # published
    assert same.metrics["oof_auc"] == pytest.approx(
        next(r for r in list_models(warehouse_copy.models) if r.version == champion).oof_auc)
    # without the external scores the model is clearly worse: registered, not promoted
    worse = train_model(warehouse_copy.db, warehouse_copy.models,
                        config=small_config(exclude_features=("code_gender", "ext_source")))
    assert not worse.passes_guard
    assert worse.scoring_version == same.model_version
    assert worse.guard_message.startswith("not promoted, champion kept")
    assert find_champion(warehouse_copy.models).version == same.model_version
    write_model_tables(warehouse_copy.db, warehouse_copy.models, config=small_config())
    runs = query(warehouse_copy.db, "select model_version, is_champion from ml.model_runs "
                                    "order by trained_at").set_index("model_version")
    assert runs["is_champion"].to_dict() == {champion: False, same.model_version: True,
                                             worse.model_version: False}


def test_guard_compares_on_new_history_clients_when_the_data_changed(
        warehouse_copy: Warehouse) -> None:
    """New history clients the champion never saw: both models are judged on them."""
    from tests.models_ml.synthetic import make_features

    extra = make_features(2500, seed=99)
    extra["sk_id_curr"] += 10_000_000
    extra["population"] = "history"
    extra["target"] = extra["target"].fillna(0)
    con = duckdb.connect(str(warehouse_copy.db))
    con.register("_extra", extra)
    con.execute("insert into marts.client_features by name select * from _extra")
    con.close()
    result = train_model(warehouse_copy.db, warehouse_copy.models, config=small_config())
    assert "history clients new since the champion" in result.guard_message
