"""The refresh's monitoring step: `prepare_monitoring` writes the ml.monitor_* tables that the
dbt monitoring models read (after scoring, before dbt builds serving); `after_publish` appends
the run to PAD_HOME/history/ and raises the alerts for the flags it published.

Everything about history clients comes from the champion's OUT-OF-FOLD predictions
(CONTRACTS §5): the training population's score distribution, the risk bands of the portfolio
page (`serving.band_outcomes`), fairness. The back-test uses the probabilities given when the
clients were pending (models_ml.monitoring.backtest).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models_ml.monitoring.backtest import backtest
from models_ml.monitoring.config import fairness_min_group, monitored_features
from models_ml.monitoring.fairness import fairness_report
from models_ml.monitoring.history import (
    DRIFT,
    FEATURES,
    SCORES,
    append_history,
    published_runs,
    read_history,
)
from models_ml.registry import ModelRecord, get_model, read_oof
from models_ml.scaling import points_from_log_odds, risk_bands, round_scores, scaling_from_record
from warehouse.alerts import raise_alert
from warehouse.config import PadPaths
from warehouse.errors import RunFailure

TRAINING_REFERENCE_MAX = 50_000
TABLES = {
    "monitor_run": "refresh_run_id varchar, model_version varchar, previous_run_id varchar, "
                   "computed_at timestamptz",
    "monitor_oof_scores": "model_version varchar, sk_id_curr bigint, target integer, "
                          "probability_default double, score integer, risk_band varchar, "
                          "decision varchar",
    "monitor_feature_values": "population varchar, sk_id_curr bigint, feature_name varchar, "
                              "feature_rank integer, value double",
    "monitor_previous_values": "feature_name varchar, value double",
    "monitor_drift_history": "refresh_run_id varchar, reference varchar, feature_name varchar, "
                             "feature_rank integer, psi double, flag varchar, "
                             "reference_clients bigint, current_clients bigint, "
                             "computed_at timestamptz",
    "monitor_fairness": "model_version varchar, attribute varchar, \"group\" varchar, "
                        "clients bigint, refusal_rate double, default_rate_granted double, "
                        "tpr double, fpr double, auc double, grant_rate_ratio double, "
                        "demographic_parity_ratio double, equalized_odds_difference double, "
                        "flag varchar",
    "monitor_backtest": "model_version varchar, as_of timestamptz, refresh_run_id varchar, "
                        "risk_band varchar, clients bigint, defaults bigint, "
                        "predicted_rate double, observed_rate double, jeffreys_p double, "
                        "auc double, flag varchar",
}


@dataclass
class MonitoringSummary:
    model_version: str
    features: list[str]
    previous_run: str | None
    backtest_clients: int
    seconds: float = 0.0
    alerts: list[Path] = field(default_factory=list)

    def render(self) -> str:
        previous = self.previous_run or "none"
        return (f"monitoring {len(self.features)} features + score against the training "
                f"population and the previous refresh ({previous}); "
                f"{self.backtest_clients:,} outcomes back-tested")


def _replace(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame | None) -> None:
    con.execute(f"create or replace table ml.{name} ({TABLES[name]})")
    if frame is not None and len(frame):
        con.register("_frame", frame)
        con.execute(f"insert into ml.{name} by name select * from _frame")
        con.unregister("_frame")


def oof_scores(champion: ModelRecord) -> pd.DataFrame:
    """The champion's out-of-fold probabilities turned into points, bands and decisions exactly
    as client scores are (same scaling, same threshold)."""
    meta = champion.metadata
    scaling = scaling_from_record(meta["score_scaling"])
    oof = read_oof(champion)
    p = np.clip(oof["probability_default"].to_numpy(float), 1e-12, 1 - 1e-12)
    score = round_scores(points_from_log_odds(np.log(p / (1 - p)), scaling))
    return pd.DataFrame({
        "model_version": champion.version, "sk_id_curr": oof["sk_id_curr"],
        "target": oof["target"].astype(int), "probability_default": oof["probability_default"],
        "score": score, "risk_band": risk_bands(score, scaling),
        "decision": np.where(oof["probability_default"] > float(meta["threshold"]),
                             "refuse", "grant")})


def _top_features(con: duckdb.DuckDBPyConnection, version: str, n: int) -> list[str]:
    rows = con.execute("select feature_name from ml.feature_importance where model_version = ? "
                       "order by rank limit ?", [version, n]).fetchall()
    return [r[0] for r in rows]


def _write_feature_values(con: duckdb.DuckDBPyConnection, features: list[str]) -> None:
    """Long form (population, client, feature, value) of the training population (the clients
    the champion was evaluated on, out of fold) and of the current pending clients; the score is
    feature 'score' (rank 0): out-of-fold points for training, published points for pending.

    The training reference is a fixed hash sample of at most TRAINING_REFERENCE_MAX clients
    (1 in k by hash(sk_id_curr)): its deciles and shares are as good as the whole population's
    (sampling noise on a PSI ≈ bins / sample size ≈ 2e-4), at a sixth of the cost at full scale."""
    n = con.execute("select count(*) from ml.monitor_oof_scores").fetchall()[0][0]
    every = max(1, -(-n // TRAINING_REFERENCE_MAX))
    sampled = f"hash(sk_id_curr) % {every} = 0"
    casts = ", ".join(f'"{f}"::double as "{f}"' for f in features)
    ranks = " ".join(f"when '{f}' then {i}" for i, f in enumerate(features, start=1))
    con.execute(f"""
        insert into ml.monitor_feature_values
        with wide as (
            select 'training' as population, sk_id_curr, {casts} from marts.client_features
            where sk_id_curr in (select sk_id_curr from ml.monitor_oof_scores) and {sampled}
            union all
            select 'current', sk_id_curr, {casts} from marts.client_features
            where population = 'pending'
        ),
        long as (
            select * from wide
            unpivot include nulls (value for feature_name in ({", ".join(f'"{f}"' for f in features)}))
        )
        select population, sk_id_curr, feature_name,
               case feature_name {ranks} end as feature_rank, value
        from long
        union all
        select 'training', sk_id_curr, 'score', 0, score::double from ml.monitor_oof_scores
        where {sampled}
        union all
        select 'current', s.sk_id_curr, 'score', 0, s.score::double
        from ml.client_scores s join marts.client_features f using (sk_id_curr)
        where f.population = 'pending'
    """)


def _scoring_model(con: duckdb.DuckDBPyConnection, paths: PadPaths) -> ModelRecord:
    """The model that scored this build (it becomes the champion when the build is published)."""
    version = con.execute("select any_value(model_version) from ml.client_scores").fetchall()[0][0]
    if version is None:
        raise RunFailure("monitoring needs scored clients (ml.client_scores is empty)")
    return get_model(paths.models, version)


def prepare_monitoring(db_path: Path, paths: PadPaths, run_id: str) -> MonitoringSummary:
    started = time.perf_counter()
    earlier = published_runs(paths, exclude=run_id)
    previous = earlier[-1] if earlier else None
    con = duckdb.connect(str(db_path))
    try:
        champion = _scoring_model(con, paths)
        con.execute("create schema if not exists ml")
        _replace(con, "monitor_run", pd.DataFrame({
            "refresh_run_id": [run_id], "model_version": [champion.version],
            "previous_run_id": [previous.name if previous else None],
            "computed_at": [pd.Timestamp.now(tz="UTC")]}))
        oof = oof_scores(champion)
        _replace(con, "monitor_oof_scores", oof)
        features = _top_features(con, champion.version, monitored_features())
        _replace(con, "monitor_feature_values", None)
        _write_feature_values(con, features)
        _replace(con, "monitor_previous_values",
                 pd.read_parquet(previous / FEATURES) if previous else None)
        _replace(con, "monitor_drift_history", read_history(earlier, DRIFT))
        profile = con.execute("select sk_id_curr, gender, age_years, family_status "
                              "from marts.client_profile").df()
        fairness = fairness_report(oof.merge(profile, on="sk_id_curr"),
                                   float(champion.metadata["threshold"]), fairness_min_group())
        fairness.insert(0, "model_version", champion.version)
        _replace(con, "monitor_fairness", fairness)
        outcomes = con.execute("select sk_id_curr, target::integer as target "
                               "from marts.client_profile where population = 'history'").df()
        tested = backtest(read_history(earlier, SCORES), outcomes)
        _replace(con, "monitor_backtest", tested)
    finally:
        con.close()
    return MonitoringSummary(champion.version, features, previous.name if previous else None,
                             int(tested["clients"].sum()) if len(tested) else 0,
                             seconds=time.perf_counter() - started)


def after_publish(paths: PadPaths, run_id: str) -> list[Path]:
    """Append the run to PAD_HOME/history/ and raise one alert per kind of flag it published."""
    append_history(paths, run_id)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        drift = con.execute("select reference, feature_name, psi, flag from serving.drift "
                            "where refresh_run_id = ? and flag <> 'stable' order by psi desc",
                            [run_id]).df()
        fairness = con.execute("select attribute, \"group\", grant_rate_ratio from "
                               "serving.fairness where flag = 'four_fifths'").df()
        failed = con.execute("select risk_band, as_of, clients, predicted_rate, observed_rate, "
                             "jeffreys_p from serving.backtest where flag = 'fail'").df()
    finally:
        con.close()
    return [a for a in (_drift_alert(paths, run_id, drift), _fairness_alert(paths, run_id, fairness),
                        _backtest_alert(paths, run_id, failed)) if a is not None]


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).map(
        lambda v: v.isoformat() if hasattr(v, "isoformat") else v).to_dict("records")


def _drift_alert(paths: PadPaths, run_id: str, drift: pd.DataFrame) -> Path | None:
    if drift.empty:
        return None
    act = drift[drift["flag"] == "act"]
    worst = act if len(act) else drift
    names = ", ".join(f"{r.feature_name} {r.psi:.2f} ({r.reference})"
                      for r in worst.head(5).itertuples())
    message = (f"population drift: {len(act)} act and {len(drift) - len(act)} watch flags; "
               f"largest PSI: {names}")
    return raise_alert(paths, "drift", message, "warning" if len(act) else "info", run_id,
                       {"flags": _records(drift)})


def _fairness_alert(paths: PadPaths, run_id: str, groups: pd.DataFrame) -> Path | None:
    if groups.empty:
        return None
    names = ", ".join(f"{r.attribute}={r.group} ({r.grant_rate_ratio:.2f})"
                      for r in groups.itertuples())
    return raise_alert(paths, "fairness", f"four-fifths rule: grant rate below 80 % of the best "
                       f"group for {names}", "warning", run_id, {"groups": _records(groups)})


def _backtest_alert(paths: PadPaths, run_id: str, bands: pd.DataFrame) -> Path | None:
    if bands.empty:
        return None
    names = ", ".join(f"band {r.risk_band}: predicted {r.predicted_rate:.1%}, observed "
                      f"{r.observed_rate:.1%} of {r.clients} (p = {r.jeffreys_p:.3f})"
                      for r in bands.itertuples())
    return raise_alert(paths, "backtest", f"back-test failed (risk under-estimated): {names}",
                       "warning", run_id, {"bands": _records(bands)})
