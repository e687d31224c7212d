"""Back-test (Jeffreys per band) and fairness report on hand-made data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from models_ml.monitoring.backtest import backtest
from models_ml.monitoring.fairness import fairness_report


def _scores(run: str, ids: range, population: str, p: float, band: str) -> pd.DataFrame:
    return pd.DataFrame({"refresh_run_id": run, "as_of": pd.Timestamp(f"2026-0{run[-1]}-01",
                                                                       tz="UTC"),
                         "sk_id_curr": list(ids), "population": population, "target": None,
                         "model_version": "m1", "probability_default": p, "risk_band": band,
                         "score": 560, "decision": "grant"})


def test_backtest_uses_the_first_pending_score_and_flags_underestimation() -> None:
    history = pd.concat([
        _scores("r1", range(200), "pending", 0.02, "A"),     # cohort of run 1
        _scores("r2", range(200), "pending", 0.30, "E"),     # re-scored later: ignored
        _scores("r2", range(200, 300), "pending", 0.10, "C"),   # cohort of run 2
        _scores("r1", range(300, 400), "history", 0.05, "B"),   # known at the time: never
    ])
    target = np.zeros(400, dtype=int)
    target[:20] = 1              # 10 % observed where 2 % was predicted → under-estimated
    target[200:210] = 1          # 10 % observed where 10 % was predicted → fine
    outcomes = pd.DataFrame({"sk_id_curr": range(400), "target": target})
    out = backtest(history, outcomes).set_index("refresh_run_id")
    assert list(out.index) == ["r1", "r2"] and set(out["risk_band"]) == {"A", "C"}
    r1, r2 = out.loc["r1"], out.loc["r2"]
    assert (r1["clients"], r1["defaults"]) == (200, 20)
    assert r1["jeffreys_p"] == pytest.approx(beta.cdf(0.02, 20.5, 180.5))
    assert r1["flag"] == "fail" and r2["flag"] == "ok"
    assert r1["predicted_rate"] == pytest.approx(0.02) and r1["observed_rate"] == 0.1
    assert np.isnan(r2["auc"]) or 0 <= r2["auc"] <= 1


def test_fairness_reports_small_groups_and_the_four_fifths_rule() -> None:
    rng = np.random.default_rng(0)
    n = 1000
    gender = np.where(np.arange(n) < 600, "female", "male").astype(object)
    gender[:5] = "XNA"
    probability = rng.uniform(0, 0.2, n)
    probability[600:] += 0.1          # men refused more often
    target = (rng.random(n) < probability).astype(int)
    clients = pd.DataFrame({"target": target, "probability_default": probability,
                            "gender": gender, "age_years": rng.uniform(20, 70, n),
                            "family_status": "Married"})
    out = fairness_report(clients, threshold=0.15, min_group=100)
    g = out[out["attribute"] == "gender"].set_index("group")
    assert g.loc["XNA", "flag"] == "small_group" and g.loc["XNA", "clients"] == 5
    refused = probability > 0.15
    female = (gender == "female")
    assert g.loc["female", "refusal_rate"] == pytest.approx(refused[female].mean())
    ratio = (1 - refused[gender == "male"].mean()) / (1 - refused[female].mean())
    assert g.loc["male", "grant_rate_ratio"] == pytest.approx(ratio)
    assert g.loc["male", "flag"] == ("four_fifths" if ratio < 0.8 else "ok")
    assert g["demographic_parity_ratio"].iloc[0] == pytest.approx(min(ratio, 1 / ratio))
    assert out.groupby("attribute")["clients"].sum().eq(n).all()
