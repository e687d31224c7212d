"""Champion promotion happens with the publish (CONTRACTS §1, issue 9 defect 4): a retrain that
stops at any step boundary leaves the registry's champion and the published warehouse agreeing,
and the next plain refresh scores with the published champion.

The flow's own step functions run on a small hand-built feature mart (no dbt, seconds): a crash
at a boundary is the run stopping there — nothing of a run persists between two steps except
the registry and the files the steps write — and the gap between the warehouse rename and the
pointer write is a failure injected into the pointer write.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

import flows.publish
from flows.publish import new_build_path, published_model, reconcile_champion
from flows.refresh import (
    RefreshPlan,
    RefreshRun,
    needs_training,
    publish_build,
    refresh_steps,
    score,
    train,
)
from flows.runs import RunRecord, new_run_id
from models_ml.registry import find_champion, list_models, read_champion_pointer
from tests.models_ml.synthetic import write_feature_mart
from warehouse.config import PadPaths, pad_paths

BOUNDARIES = ["after train", "after score", "between rename and pointer", "completed"]


@pytest.fixture(autouse=True)
def fast_training(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"PAD_ML_FOLDS": "3", "PAD_ML_MAX_TREES": "40",
                        "PAD_ML_CHUNK_ROWS": "1000"}.items():
        monkeypatch.setenv(name, value)


def new_run(paths: PadPaths, mart: Path, retrain: bool) -> RefreshRun:
    """A run whose build file already holds the marts (what validate_load + dbt_marts do)."""
    record = RunRecord(run_id=new_run_id(), raw="synthetic")
    build = new_build_path(paths)
    shutil.copy(mart, build)
    return RefreshRun(RefreshPlan(raw=mart, build=build, retrain=retrain, paths=paths), record)


def run_ml_steps(state: RefreshRun, stop: str = "completed") -> None:
    """The flow's ML and publish steps in the flow's order, stopping at `stop`."""
    if needs_training(state):
        train(state)
    if stop == "after train":
        return
    score(state)
    if stop == "after score":  # dbt_serving writes nothing the champion depends on
        return
    publish_build(state)


def published_version(paths: PadPaths) -> str:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        [(version,)] = con.execute("select distinct model_version from ml.client_scores"
                                   ).fetchall()
    finally:
        con.close()
    assert published_model(paths)["model_version"] == version
    return version


@pytest.fixture(scope="module")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A PAD_HOME after one published run (which trained the first champion), and the mart."""
    folder = tmp_path_factory.mktemp("champion")
    mart = folder / "mart.duckdb"
    write_feature_mart(mart)
    paths = pad_paths(folder / "home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAD_ML_FOLDS", "3")
        patch.setenv("PAD_ML_MAX_TREES", "40")
        run_ml_steps(new_run(paths, mart, retrain=False))
    return paths.home, mart


def test_the_step_list_is_the_flow() -> None:
    assert [s.name for s in refresh_steps()] == ["validate_load", "dbt_marts", "train", "score",
                                                 "monitor", "recourse", "dbt_serving",
                                                 "publish", "history"]


@pytest.mark.parametrize("stop", BOUNDARIES)
def test_a_retrain_stopped_at_any_boundary_leaves_registry_and_warehouse_agreeing(
        published_home: tuple[Path, Path], tmp_path: Path, stop: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    home, mart = published_home
    paths = pad_paths(shutil.copytree(home, tmp_path / "home"))
    champion = find_champion(paths.models).version
    assert published_version(paths) == champion == read_champion_pointer(paths.models)[
        "model_version"]

    state = new_run(paths, mart, retrain=True)
    if stop == "between rename and pointer":
        def crash(*args: object, **kwargs: object) -> None:
            raise SystemExit("killed between the warehouse rename and the pointer write")
        monkeypatch.setattr(flows.publish, "set_champion", crash)
        with pytest.raises(SystemExit):
            run_ml_steps(state)
        monkeypatch.undo()
    else:
        run_ml_steps(state, stop)

    candidate = state.trained.model_version
    assert candidate in {r.version for r in list_models(paths.models)}, "registered"
    assert state.trained.scoring_version == candidate  # same data: the guard lets it through
    if stop in {"after train", "after score"}:
        assert find_champion(paths.models).version == champion == published_version(paths)
    elif stop == "completed":
        assert find_champion(paths.models).version == candidate == published_version(paths)
    else:  # the warehouse is out, the pointer is not: the next run repairs it
        assert published_version(paths) == candidate
        assert find_champion(paths.models).version == champion
        assert reconcile_champion(paths) == candidate
        assert read_champion_pointer(paths.models)["model_version"] == candidate
    assert reconcile_champion(paths) is None  # nothing (more) to repair

    # the next plain refresh scores with the published champion and does not train
    following = new_run(paths, mart, retrain=False)
    assert not needs_training(following)
    score(following)
    assert following.scored.model_version == published_version(paths) \
        == find_champion(paths.models).version


def test_a_pointer_set_by_hand_after_the_publish_stands(published_home: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    from models_ml.registry import promote_model

    home, mart = published_home
    paths = pad_paths(shutil.copytree(home, tmp_path / "home"))
    state = new_run(paths, mart, retrain=True)
    train(state)
    promote_model(paths.models, state.trained.model_version, "promoted by hand")
    assert reconcile_champion(paths) is None
    assert find_champion(paths.models).version == state.trained.model_version
