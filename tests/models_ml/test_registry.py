"""Registry folders, champion bookkeeping and the champion guard rule."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models_ml.config import ScoreScaling
from models_ml.guard import GuardDecision, passes_guard
from models_ml.registry import (
    find_champion,
    list_models,
    load_scoring_model,
    new_version_id,
    promote_model,
    read_champion_pointer,
    save_model,
    set_champion,
)
from models_ml.scaling import scaling_record
from warehouse.errors import RunFailure

T0 = datetime(2025, 1, 6, 5, 0, tzinfo=UTC)


def tiny_model_text() -> str:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] > 0).astype(int)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "min_child_samples": 5},
                        lgb.Dataset(X, y, feature_name=["a", "b"]), num_boost_round=3)
    return booster.model_to_string()


def register(models: Path, when: datetime, auc: float, champion: bool) -> str:
    version = new_version_id("fp", {"x": 1}, when)
    metadata = {
        "model_version": version, "trained_at": when.isoformat(),
        "champion_since": when.isoformat() if champion else None,
        "features": ["a", "b"], "metrics": {"oof_auc": auc}, "data_fingerprint": "fp",
        "threshold": 0.09, "score_cutoff": 553,
        "calibration": {"method": "platt", "a": 0.1, "b": 1.05},
        "score_scaling": scaling_record(ScoreScaling()),
    }
    save_model(models, version, tiny_model_text(), metadata,
               pd.DataFrame({"sk_id_curr": [1], "fold": [0], "target": [0],
                             "probability_default": [0.1]}))
    return version


@pytest.mark.parametrize(("challenger", "champion", "promote"), [
    (0.800, 0.800, True), (0.7951, 0.800, True), (0.795, 0.800, True), (0.7949, 0.800, False),
    (0.810, 0.800, True)])
def test_guard_tolerates_at_most_half_a_point_of_auc(challenger: float, champion: float,
                                                     promote: bool) -> None:
    assert passes_guard(challenger, champion, tolerance=0.005) is promote


def test_guard_message_says_what_happened() -> None:
    kept = GuardDecision(False, 0.78, 0.80, "same data fingerprint, out-of-fold AUCs")
    assert kept.message.startswith("not promoted, champion kept: challenger AUC 0.7800")
    assert GuardDecision(True, 0.8, None, "no champion yet").message == "promoted: no champion yet"


def test_version_ids_sort_by_time_and_differ() -> None:
    a, b = new_version_id("fp", {}, T0), new_version_id("fp", {}, T0)
    assert a != b and a[:16] == b[:16] == "20250106T050000Z"
    assert new_version_id("fp", {}, T0 + timedelta(seconds=1)) > a


def test_registry_lists_versions_and_finds_the_champion(tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert list_models(models) == [] and find_champion(models) is None
    first = register(models, T0, 0.80, champion=True)
    rejected = register(models, T0 + timedelta(days=7), 0.70, champion=False)
    (models / ".half-written.tmp-1234").mkdir()  # an interrupted save is invisible
    assert [r.version for r in list_models(models)] == [first, rejected]
    assert find_champion(models).version == first

    promote_model(models, rejected, "promoted by hand", now=T0 + timedelta(days=8))
    assert find_champion(models).version == rejected
    meta = json.loads((models / rejected / "metadata.json").read_text())
    assert meta["champion_decision"] == "promoted by hand"
    assert meta["champion_since"] == "2025-01-14T05:00:00+00:00"


def test_the_champion_pointer_decides_and_old_registries_migrate(tmp_path: Path) -> None:
    models = tmp_path / "models"
    # a registry from before champion.json: the latest champion_since is the champion
    first = register(models, T0, 0.80, champion=True)
    second = register(models, T0 + timedelta(days=7), 0.81, champion=True)
    assert read_champion_pointer(models) is None
    assert find_champion(models).version == second
    # once a publish writes the pointer, it alone decides (metadata stamps do not)
    set_champion(models, first, "published by run r1", run_id="r1",
                 now=T0 + timedelta(days=8))
    pointer = read_champion_pointer(models)
    assert pointer == {"model_version": first, "since": "2025-01-14T05:00:00+00:00",
                       "run_id": "r1", "reason": "published by run r1"}
    assert datetime.fromisoformat(pointer["since"]).utcoffset() == timedelta(0)
    register(models, T0 + timedelta(days=9), 0.82, champion=True)
    assert find_champion(models).version == first
    # the same champion again changes nothing
    set_champion(models, first, "kept", run_id="r2", now=T0 + timedelta(days=10))
    assert read_champion_pointer(models)["run_id"] == "r1"
    assert not [p for p in models.iterdir() if p.name.startswith(".")], "no temporary left"


def test_a_pointer_to_a_missing_version_is_a_clear_failure(tmp_path: Path) -> None:
    models = tmp_path / "models"
    register(models, T0, 0.80, champion=False)
    (models / "champion.json").write_text(json.dumps({"model_version": "nope"}))
    with pytest.raises(RunFailure, match="no model version nope"):
        find_champion(models)


def test_a_version_folder_holds_model_and_metadata(tmp_path: Path) -> None:
    models = tmp_path / "models"
    version = register(models, T0, 0.8, champion=True)
    assert sorted(p.name for p in (models / version).iterdir()) == [
        "metadata.json", "model.txt", "oof.parquet"]
    model = load_scoring_model(find_champion(models))
    assert model.features == ["a", "b"] and model.score_cutoff == 553
    assert model.calibration.b == pytest.approx(1.05)
