"""Refresh run records: one JSON file per run under PAD_HOME/runs/, failed runs included.

`serving.refresh_runs` is a view over these files, so a failed run is visible to readers even
though it published nothing. A record is written when the run starts ('running') and rewritten
when it ends ('success' | 'failed'); a run stopped by a signal records 'failed' itself, and one
killed outright (SIGKILL) is marked 'failed' by the next run (`fail_abandoned_runs`: under the
refresh lock, a 'running' record cannot belong to a live run). Timestamps are UTC, RFC 3339
with the offset ('2026-11-30T16:40:10+00:00').
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warehouse.config import PadPaths

STEPS = ["validate_load", "dbt_marts", "train", "score", "monitor", "recourse", "dbt_serving",
         "publish", "history"]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    run_id: str
    raw: str
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    status: str = "running"
    retrained: bool = False
    published: bool = False
    model_version: str | None = None
    clients: int | None = None
    rows_loaded: int | None = None
    fingerprint: str | None = None
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        data = asdict(self)
        seconds = data.pop("seconds")
        for step in STEPS:
            data[f"seconds_{step}"] = round(seconds.get(step, 0.0), 3) if step in seconds else None
        data["seconds_total"] = round(sum(seconds.values()), 3)
        return data


def write_record(paths: PadPaths, record: RunRecord) -> Path:
    """Write atomically (temp + rename) so a reader never sees half a JSON file."""
    paths.runs.mkdir(parents=True, exist_ok=True)
    target = paths.runs / f"{record.run_id}.json"
    temp = target.with_suffix(".json.tmp")
    temp.write_text(json.dumps(record.to_json(), indent=1))
    os.replace(temp, target)
    return target


def finish_record(paths: PadPaths, record: RunRecord, status: str, message: str) -> None:
    record.status = status
    record.message = message
    record.finished_at = _now()
    write_record(paths, record)


KILLED_MESSAGE = "killed before it could record its end (found by the next run)"


def fail_abandoned_runs(paths: PadPaths, message: str = KILLED_MESSAGE) -> dict[str, str]:
    """Mark 'failed' the records still 'running' (call with the refresh lock held); returns
    {run_id: message}."""
    abandoned = {}
    for path in sorted(paths.runs.glob("*.json")) if paths.runs.exists() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if data.get("status") != "running":
            continue
        data.update(status="failed", finished_at=_now(), message=message)
        temp = path.with_suffix(".json.tmp")
        temp.write_text(json.dumps(data, indent=1))
        os.replace(temp, path)
        abandoned[str(data.get("run_id", path.stem))] = data["message"]
    return abandoned


def last_published(paths: PadPaths) -> dict | None:
    """The newest successful run that published a warehouse (what readers see now)."""
    if not paths.runs.exists() or not paths.warehouse.exists():
        return None
    records = []
    for path in paths.runs.glob("*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue  # a damaged record must not stop the next refresh
    published = [r for r in records if r.get("status") == "success" and r.get("published")]
    return max(published, key=lambda r: r["started_at"], default=None)


class StepTimer:
    """Times the steps of one run into the record."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record

    def __call__(self, step: str) -> _Timed:
        return _Timed(self.record, step)


class _Timed:
    def __init__(self, record: RunRecord, step: str) -> None:
        self.record, self.step = record, step

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.record.seconds[self.step] = time.perf_counter() - self.started
