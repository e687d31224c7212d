"""PAD_HOME/history/: one Parquet set per published refresh (CONTRACTS §1), append-only.

    history/<run_id>/scores.parquet    every client's score as published (population, target,
                                       model, probability, band, decision) — the back-test reads
                                       the pending rows of earlier refreshes
    history/<run_id>/features.parquet  the monitored feature values and the score of the pending
                                       clients (long form) — the next refresh's 'previous_refresh'
                                       drift reference
    history/<run_id>/drift.parquet     this refresh's serving.drift rows — trends over time

Written from the published warehouse right after the publish, into a temporary folder renamed
into place, so a set is either complete or absent. Run ids sort by time.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.config import PadPaths

SCORES, FEATURES, DRIFT = "scores.parquet", "features.parquet", "drift.parquet"


def published_runs(paths: PadPaths, exclude: str | None = None) -> list[Path]:
    """Complete history sets, oldest first."""
    if not paths.history.is_dir():
        return []
    return sorted(p for p in paths.history.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name != exclude
                  and (p / SCORES).is_file())


def append_history(paths: PadPaths, run_id: str) -> Path:
    """Copy this run's scores, monitored feature values and drift out of the published file."""
    paths.history.mkdir(parents=True, exist_ok=True)
    final = paths.history / run_id
    temp = paths.history / f".{run_id}.tmp-{uuid.uuid4().hex[:6]}"
    temp.mkdir()
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        queries = {
            SCORES: f"""select '{run_id}' as refresh_run_id,
                           max(s.scored_at) over () as as_of, s.sk_id_curr, c.population,
                           c.target, s.model_version, s.probability_default, s.score,
                           s.risk_band, s.decision
                       from serving.client_scores s join serving.clients c using (sk_id_curr)""",
            FEATURES: "select feature_name, value from ml.monitor_feature_values "
                      "where population = 'current'",
            DRIFT: f"select * from serving.drift where refresh_run_id = '{run_id}'",
        }
        for name, sql in queries.items():
            con.execute(f"copy ({sql}) to '{temp / name}' (format parquet)")
        os.replace(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    finally:
        con.close()
    return final


def read_history(runs: list[Path], name: str) -> pd.DataFrame:
    files = [run / name for run in runs if (run / name).is_file()]
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
