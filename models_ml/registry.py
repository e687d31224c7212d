"""The model registry: one folder per version under PAD_HOME/models/, and the champion.

Layout of `models/<version>/` (CONTRACTS §1):
  model.txt       the LightGBM booster (text format), pruned to the features it uses
  metadata.json   params, features, metrics, threshold, calibration, score scaling, data
                  fingerprint, importance, curves, champion status
  oof.parquet     out-of-fold predictions of the history rows it was evaluated on

and `models/champion.json` (CONTRACTS §1) names the champion: `{"model_version", "since",
"run_id", "reason"}`. Training only registers a version with the champion guard's verdict; the
pointer is written by the step that publishes the warehouse scored with that version (or by a
standalone `run_ml`, or by hand with `promote_model`), so the registry and the published
warehouse never disagree for longer than the gap between two renames (reconciled by the next
refresh, see flows.publish). Registries from before the pointer existed have none: their
champion is the version with the latest `champion_since` until the next publish writes one.

The metadata files are the rest of the registry: `list_models` reads them. Folders are written
under a temporary name and renamed into place, so a crash never leaves a half-written version
that `list_models` would see. Every timestamp is UTC, RFC 3339 with its offset.
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

CHAMPION_FILE = "champion.json"
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


def rfc3339(moment: datetime) -> str:
    """UTC, RFC 3339 with its offset ('2026-11-30T14:53:54.122251+00:00')."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: every timestamp must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


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
    """The version champion.json names (or, in a registry from before the pointer, the version
    promoted most recently); None when there is no champion yet."""
    pointer = read_champion_pointer(models_dir)
    if pointer is not None:
        return get_model(models_dir, pointer["model_version"])
    promoted = [r for r in list_models(models_dir) if r.champion_since]
    return max(promoted, key=lambda r: (r.champion_since, r.version)) if promoted else None


def read_champion_pointer(models_dir: Path) -> dict | None:
    """champion.json as written by `set_champion`, or None when there is none."""
    path = Path(models_dir) / CHAMPION_FILE
    try:
        pointer = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise RunFailure(f"{path}: unreadable champion pointer ({exc})") from None
    if not isinstance(pointer, dict) or not pointer.get("model_version"):
        raise RunFailure(f"{path}: champion pointer without a model_version")
    return pointer


def set_champion(models_dir: Path, version: str, reason: str, run_id: str | None = None,
                 now: datetime | None = None) -> ModelRecord:
    """Make `version` the champion: write champion.json atomically and durably, then stamp the
    version's metadata (champion_since, champion_decision) for the model tables. Nothing to do
    when it already is the champion."""
    record = get_model(models_dir, version)
    pointer = read_champion_pointer(models_dir)
    if pointer is not None and pointer["model_version"] == version:
        return record
    since = rfc3339(now or utc_now())
    _write_json_atomic(Path(models_dir) / CHAMPION_FILE,
                       {"model_version": version, "since": since, "run_id": run_id,
                        "reason": reason})
    metadata = {**record.metadata, "champion_since": since, "champion_decision": reason}
    _write_json_atomic(record.path / METADATA_FILE, metadata)
    return ModelRecord(version, record.path, metadata)


def get_model(models_dir: Path, version: str) -> ModelRecord:
    for record in list_models(models_dir):
        if record.version == version:
            return record
    raise RunFailure(f"{models_dir}: no model version {version}")


def promote_model(models_dir: Path, version: str, reason: str, now: datetime | None = None
                  ) -> ModelRecord:
    """Make `version` the champion by hand; the next refresh scores with it."""
    return set_champion(models_dir, version, reason, now=now)


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
    """Temporary file, fsync, rename, fsync of the folder: a crash leaves the old or the new
    file whole, and a rename that returned survives a power loss."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(temp, "w") as handle:
        handle.write(json.dumps(data, indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
