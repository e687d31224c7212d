"""Fixtures: a small synthetic feature mart and one trained + scored warehouse per session."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from models_ml.config import ExplainConfig, MlConfig, TrainConfig
from tests.models_ml.synthetic import write_feature_mart


def small_config(**train_overrides: object) -> MlConfig:
    """Settings sized for 3,000 clients: seconds, several chunks, early stopping that fires."""
    train = TrainConfig(folds=3, learning_rate=0.1, max_rounds=300, early_stopping_rounds=20,
                        max_trees=150, threads=2, min_child_samples=20, importance_sample=1000,
                        **train_overrides)
    return MlConfig(train=train, explain=ExplainConfig(chunk_rows=700))


@dataclass(frozen=True)
class Warehouse:
    db: Path
    models: Path

    def copy_to(self, folder: Path) -> Warehouse:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.db, folder / self.db.name)
        shutil.copytree(self.models, folder / "models")
        return Warehouse(folder / self.db.name, folder / "models")


@pytest.fixture
def config() -> MlConfig:
    return small_config()


@pytest.fixture
def mart_db(tmp_path: Path) -> Path:
    db = tmp_path / "build.duckdb"
    write_feature_mart(db)
    return db


@pytest.fixture(scope="session")
def scored_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Train, score and write the model tables once; tests that modify it take a copy."""
    from models_ml.pipeline import run_ml

    folder = tmp_path_factory.mktemp("scored")
    db = folder / "build.duckdb"
    write_feature_mart(db)
    run_ml(db, folder / "models", retrain=True, config=small_config())
    return Warehouse(db, folder / "models")


@pytest.fixture
def warehouse_copy(scored_warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    return scored_warehouse.copy_to(tmp_path / "copy")
