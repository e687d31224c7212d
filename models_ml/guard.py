"""The champion guard (CONTRACTS §5): a retrain replaces the champion only if its out-of-fold
AUC is not more than `tolerance` (0.005) below the champion's on the same data.

"The same data" is established in this order:
1. same data fingerprint (history rows, targets and features unchanged): the two stored OOF
   AUCs are directly comparable;
2. otherwise, history clients the champion never saw (added since it was trained): the
   champion's predictions on them are honest out-of-sample scores, compared with the
   challenger's out-of-fold predictions on exactly the same clients;
3. otherwise (data changed but no new clients to compare on): the stored OOF AUCs, the best
   evidence available — said so in the decision's basis.
A champion whose features no longer exist in the mart cannot score the data and is replaced.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from models_ml.features import (
    FeatureMatrix,
    iter_client_chunks,
    list_feature_columns,
    model_input,
)
from models_ml.metrics import roc_auc
from models_ml.registry import ModelRecord, load_scoring_model, read_oof

MIN_FRESH_ROWS = 1000
MIN_FRESH_DEFAULTS = 20


@dataclass(frozen=True)
class GuardDecision:
    promote: bool
    challenger_auc: float
    champion_auc: float | None
    basis: str

    @property
    def message(self) -> str:
        if self.champion_auc is None:
            return f"promoted: {self.basis}"
        verdict = "promoted" if self.promote else "not promoted, champion kept"
        return (f"{verdict}: challenger AUC {self.challenger_auc:.4f} vs champion "
                f"{self.champion_auc:.4f} ({self.basis})")


def passes_guard(challenger_auc: float, champion_auc: float, tolerance: float) -> bool:
    """True when the challenger is at most `tolerance` below the champion."""
    return challenger_auc >= champion_auc - tolerance - 1e-12


def judge_challenger(con: duckdb.DuckDBPyConnection, champion: ModelRecord | None,
                     fingerprint: str, history: FeatureMatrix, oof_probability: np.ndarray,
                     tolerance: float, threads: int, chunk_rows: int) -> GuardDecision:
    """Compare a freshly evaluated challenger with the current champion on the same data."""
    challenger_auc = roc_auc(history.y, oof_probability)
    if champion is None:
        return GuardDecision(True, challenger_auc, None, "no champion yet")
    if not set(champion.features) <= set(list_feature_columns(con)):
        return GuardDecision(True, challenger_auc, None,
                             f"champion {champion.version} needs features the mart no longer has")
    if champion.fingerprint == fingerprint:
        return _decide(challenger_auc, champion.oof_auc, tolerance,
                       "same data fingerprint, out-of-fold AUCs")
    seen = read_oof(champion)["sk_id_curr"].to_numpy()
    fresh = ~np.isin(history.ids, seen)
    y_fresh = history.y[fresh]
    if fresh.sum() >= MIN_FRESH_ROWS and y_fresh.sum() >= MIN_FRESH_DEFAULTS \
            and y_fresh.sum() < len(y_fresh):
        champion_p = _predict_raw(con, champion, history.ids[fresh], threads, chunk_rows)
        return _decide(roc_auc(y_fresh, oof_probability[fresh]), roc_auc(y_fresh, champion_p),
                       tolerance, f"{int(fresh.sum())} history clients new since the champion "
                                  "was trained: challenger out-of-fold vs champion out-of-sample")
    return _decide(challenger_auc, champion.oof_auc, tolerance,
                   "data changed without enough new history clients: stored out-of-fold AUCs")


def _decide(challenger_auc: float, champion_auc: float, tolerance: float, basis: str
            ) -> GuardDecision:
    return GuardDecision(passes_guard(challenger_auc, champion_auc, tolerance), challenger_auc,
                         champion_auc, basis)


def _predict_raw(con: duckdb.DuckDBPyConnection, champion: ModelRecord, ids: np.ndarray,
                 threads: int, chunk_rows: int) -> np.ndarray:
    """The champion's raw scores for `ids`, in the order of `ids` (AUC needs no calibration:
    Platt is increasing)."""
    model = load_scoring_model(champion)
    con.register("_guard_ids_frame", pa.table({"sk_id_curr": pa.array(ids, pa.int64())}))
    con.execute("create or replace temp table _guard_ids as select * from _guard_ids_frame")
    con.unregister("_guard_ids_frame")
    scored_ids, raw = [], []
    for chunk in iter_client_chunks(con, model.features, chunk_rows, only_table="_guard_ids"):
        scored_ids.append(chunk.ids)
        raw.append(model.booster.predict(model_input(chunk.X), raw_score=True,
                                       num_threads=threads))
    con.execute("drop table _guard_ids")
    by_id = dict(zip(np.concatenate(scored_ids), np.concatenate(raw), strict=True))
    return np.array([by_id[i] for i in ids])
