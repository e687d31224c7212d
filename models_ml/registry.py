"""The model registry: one folder per version under PAD_HOME/models/, and the champion.

Layout of `models/<version>/` (CONTRACTS §1):
  model.txt       the LightGBM booster (text format), pruned to the features it uses
  metadata.json   params, features, metrics, threshold, calibration, score scaling, data
                  fingerprint, importance, curves, champion status
  oof.parquet     out-of-fold predictions of the history rows it was evaluated on

The metadata files ARE the registry: `list_models` reads them, nothing else keeps state. The
champion is the version promoted last (`champion_since`, set when a version passes the champion
guard or is promoted by hand); versions that failed the guard keep `champion_since = null`.
Folders are written under a temporary name and renamed into place, so a crash never leaves a
half-written version that `list_models` would see.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import pandas as pd

from models_ml.config import ARTIFACT_FORMAT
from models_ml.explain import ScoringModel
from models_ml.metrics import Calibration
from models_ml.scaling import scaling_from_record
from warehouse.errors import RunFailure

MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
OOF_FILE = "oof.parquet"


@dataclass(frozen=True)
class ModelRecord:
    """One registered version, as its metadata.json describes it."""

    version: str
    path: Path
    metadata: dict

    @property
    def trained_at(self) -> str:
        return str(self.metadata["trained_at"])

    @property
    def champion_since(self) -> str | None:
        return self.metadata.get("champion_since")

    @property
    def oof_auc(self) -> float:
        return float(self.metadata["metrics"]["oof_auc"])

    @property
    def features(self) -> list[str]:
        return list(self.metadata["features"])

    @property
    def fingerprint(self) -> str:
        return str(self.metadata["data_fingerprint"])


def new_version_id(fingerprint: str, params: dict, now: datetime) -> str:
    """'<UTC timestamp>-<6 hex>': sortable by time, and the hash tells data/params apart."""
    digest = hashlib.sha256(f"{fingerprint}|{json.dumps(params, sort_keys=True)}|"
                            f"{uuid.uuid4().hex}".encode()).hexdigest()[:6]
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{digest}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def save_model(models_dir: Path, version: str, model_text: str, metadata: dict,
               oof: pd.DataFrame) -> ModelRecord:
    """Write the version folder atomically (temporary folder, then rename)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise RunFailure(f"{final}: model version already exists")
    temp = models_dir / f".{version}.tmp-{uuid.uuid4().hex[:8]}"
    temp.mkdir()
    try:
        (temp / MODEL_FILE).write_text(model_text)
        (temp / METADATA_FILE).write_text(json.dumps({**metadata, "format": ARTIFACT_FORMAT},
                                                     indent=2))
        oof.to_parquet(temp / OOF_FILE, index=False)
        os.replace(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return ModelRecord(version, final, json.loads((final / METADATA_FILE).read_text()))


def list_models(models_dir: Path) -> list[ModelRecord]:
    """Every registered version, oldest first (unreadable folders are skipped)."""
    if not models_dir.is_dir():
        return []
    records = []
    for folder in sorted(models_dir.iterdir()):
        meta = folder / METADATA_FILE
        if folder.name.startswith(".") or not meta.is_file() or not (folder / MODEL_FILE).is_file():
            continue
        try:
            records.append(ModelRecord(folder.name, folder, json.loads(meta.read_text())))
        except (json.JSONDecodeError, OSError):
            continue
    return sorted(records, key=lambda r: (r.trained_at, r.version))


def find_champion(models_dir: Path) -> ModelRecord | None:
    """The version promoted most recently, or None when no version was ever promoted."""
    promoted = [r for r in list_models(models_dir) if r.champion_since]
    return max(promoted, key=lambda r: (r.champion_since, r.version)) if promoted else None


def get_model(models_dir: Path, version: str) -> ModelRecord:
    for record in list_models(models_dir):
        if record.version == version:
            return record
    raise RunFailure(f"{models_dir}: no model version {version}")


def promote_model(models_dir: Path, version: str, reason: str, now: datetime | None = None
                  ) -> ModelRecord:
    """Make `version` the champion (by hand or after the guard): stamp champion_since."""
    record = get_model(models_dir, version)
    metadata = {**record.metadata, "champion_since": (now or utc_now()).isoformat(),
                "champion_decision": reason}
    _write_json_atomic(record.path / METADATA_FILE, metadata)
    return ModelRecord(version, record.path, metadata)


def load_scoring_model(record: ModelRecord) -> ScoringModel:
    """The booster and everything the scoring step needs from a version folder."""
    meta = record.metadata
    booster = lgb.Booster(model_file=str(record.path / MODEL_FILE))
    if booster.feature_name() != record.features:
        raise RunFailure(f"{record.path}: model.txt and metadata.json disagree on the features")
    cal = meta["calibration"]
    return ScoringModel(
        version=record.version, booster=booster, features=record.features,
        calibration=Calibration(cal["method"], float(cal["a"]), float(cal["b"])),
        threshold=float(meta["threshold"]), score_cutoff=int(meta["score_cutoff"]),
        scaling=scaling_from_record(meta["score_scaling"]))


def read_oof(record: ModelRecord) -> pd.DataFrame:
    return pd.read_parquet(record.path / OOF_FILE)


def _write_json_atomic(path: Path, data: dict) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    temp.write_text(json.dumps(data, indent=2))
    os.replace(temp, path)
