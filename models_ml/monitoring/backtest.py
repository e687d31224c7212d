"""Back-test: the probabilities given to clients when they were pending, against the outcomes
that arrived since (CONTRACTS §8, `serving.backtest`).

A client is back-tested on the FIRST published refresh that scored it as pending (the decision
that counted), so the figures are never in-sample: that model had not seen the outcome. Per
cohort (`model_version`, `as_of` = that refresh's scoring time) and risk band:

- predicted_rate = mean probability given, observed_rate = share that defaulted;
- Jeffreys test (as banks back-test PD grades, e.g. the ECB's instructions for IRB validation):
  with D defaults among N clients, the posterior of the default rate under a Jeffreys prior is
  Beta(D + ½, N − D + ½); `jeffreys_p` = its CDF at the predicted rate, the probability that the
  true rate is at most what was predicted. A p-value below 5 % says the band's risk was
  under-estimated (flag 'fail'); otherwise 'ok';
- auc = ROC AUC of the given probabilities on the cohort's outcomes (all bands together, the
  same value on every band row; null when only one class arrived).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.metrics import roc_auc_score

JEFFREYS_ALPHA = 0.05
COLUMNS = ["model_version", "as_of", "refresh_run_id", "risk_band", "clients", "defaults",
           "predicted_rate", "observed_rate", "jeffreys_p", "auc", "flag"]


def jeffreys_p(defaults: np.ndarray, clients: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """P(true default rate ≤ predicted | D defaults of N) under the Jeffreys prior."""
    return beta.cdf(predicted, defaults + 0.5, clients - defaults + 0.5)


def first_pending_scores(history_scores: pd.DataFrame) -> pd.DataFrame:
    """One row per client: the earliest refresh that scored it as pending."""
    columns = ["refresh_run_id", "as_of", "sk_id_curr", "model_version", "probability_default",
               "risk_band"]
    pending = history_scores.loc[history_scores["population"] == "pending", columns]
    pending = pending.sort_values(["refresh_run_id", "sk_id_curr"])
    return pending.drop_duplicates("sk_id_curr", keep="first")


def backtest(history_scores: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """`history_scores`: refresh_run_id, as_of, sk_id_curr, population, model_version,
    probability_default, risk_band of earlier refreshes; `outcomes`: sk_id_curr, target now."""
    if history_scores.empty or outcomes.empty:
        return pd.DataFrame(columns=COLUMNS)
    scored = first_pending_scores(history_scores).merge(outcomes, on="sk_id_curr")
    if scored.empty:
        return pd.DataFrame(columns=COLUMNS)
    cohort = ["model_version", "as_of", "refresh_run_id"]
    auc = scored.groupby(cohort).apply(
        lambda g: roc_auc_score(g["target"], g["probability_default"])
        if g["target"].nunique() == 2 else np.nan, include_groups=False).rename("auc")
    bands = scored.groupby([*cohort, "risk_band"]).agg(
        clients=("sk_id_curr", "size"), defaults=("target", "sum"),
        predicted_rate=("probability_default", "mean"), observed_rate=("target", "mean"),
    ).reset_index().merge(auc.reset_index(), on=cohort)
    bands["jeffreys_p"] = jeffreys_p(bands["defaults"].to_numpy(float),
                                     bands["clients"].to_numpy(float),
                                     bands["predicted_rate"].to_numpy(float))
    bands["flag"] = np.where(bands["jeffreys_p"] < JEFFREYS_ALPHA, "fail", "ok")
    return bands[COLUMNS]
