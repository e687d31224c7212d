"""A small but contract-exact published warehouse for the dashboard and API tests.

`build_serving_warehouse(path)` writes every `serving` table of CONTRACTS §3 (columns and
meanings) plus `marts.client_features`, from a tiny linear "model" whose SHAP values are exact
(φ_j = w_j·z_j), so scores, points, families and reasons add up as the real ones do. It is test
data only: nothing here is presented as a result. `serving.similar_clients` is computed with
`warehouse.similarity`, the code of the real dbt model.
"""
from __future__ import annotations

import itertools
import json
import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from models_ml.families import FAMILIES
from warehouse.similarity import SIMILARITY_FEATURES, nearest_history_neighbours

MODEL_VERSION = "20250101T000000-fixture"
PREVIOUS_VERSION = "20241201T000000-fixture"
FACTOR = 20 / math.log(2)
OFFSET = 600 - FACTOR * math.log(50)
SCORE_CUTOFF = 545
BAND_FLOORS = (("A", 580), ("B", 560), ("C", 540), ("D", 520))
TOP_FEATURES = 30        # columns of serving.client_feature_values
DISTRIBUTED = 25         # features with precomputed histograms (the rest use the fallback)
SCATTER_SAMPLE = 150

# name, label, family, weight in log-odds per standard deviation (> 0 raises the risk)
FEATURES: list[tuple[str, str, str, float]] = [
    ("application_ext_source_mean", "External scores, mean", "external_scores", -0.55),
    ("application_ext_source_3", "External score 3", "external_scores", -0.35),
    ("application_ext_source_2", "External score 2", "external_scores", -0.32),
    ("application_ext_source_1", "External score 1", "external_scores", -0.20),
    ("application_credit_to_annuity_ratio", "Credit / annuity (term, years)", "credit_request", 0.22),
    ("application_credit_to_goods_ratio", "Credit / goods price", "credit_request", 0.18),
    ("application_annuity_to_income_ratio", "Annuity / income", "income_burden", 0.20),
    ("application_days_birth", "Age (days, negative)", "age", 0.15),
    ("application_days_employed", "Employment length (days, negative)", "employment", 0.17),
    ("installments_late_share", "Share of instalments paid late", "late_payments", 0.30),
    ("installments_days_late_mean", "Mean days late per instalment", "late_payments", 0.16),
    ("bureau_amt_credit_sum_debt_sum_active", "Active debt at other lenders", "bureau_debt", 0.14),
    ("bureau_credit_active_count", "Active loans at other lenders", "bureau_debt", 0.12),
    ("bureau_days_credit_max", "Most recent credit elsewhere (days)", "bureau_debt", 0.10),
    ("previous_application_refused_count", "Refused previous applications", "previous_refusals", 0.18),
    ("previous_application_approved_share", "Share of previous applications approved",
     "previous_refusals", -0.09),
    ("credit_card_utilisation_mean", "Card utilisation, mean", "card_usage", 0.13),
    ("credit_card_amt_balance_mean", "Card balance, mean", "card_usage", 0.07),
    ("pos_cash_months_overdue_share", "Share of POS months overdue", "pos_loans", 0.09),
    ("application_region_rating_client", "Region rating", "region", 0.08),
    ("application_amt_income_total", "Income", "income_burden", -0.06),
    ("application_amt_credit", "Credit amount", "credit_request", 0.05),
    ("application_amt_goods_price", "Goods price", "credit_request", -0.05),
    ("application_own_car_age", "Car age (years)", "housing", 0.04),
    ("application_flag_own_realty", "Owns real estate", "housing", -0.03),
    ("application_cnt_children", "Children", "family", 0.03),
    ("application_days_id_publish", "ID document age (days)", "documents_contact", 0.04),
    ("application_days_registration", "Registration age (days)", "documents_contact", 0.03),
    ("application_days_last_phone_change", "Last phone change (days)", "documents_contact", 0.03),
    ("bureau_amt_credit_max_overdue_max", "Largest overdue amount elsewhere", "bureau_debt", 0.06),
    ("installments_payment_ratio_mean", "Paid / due per instalment", "late_payments", -0.05),
    ("pos_cash_cnt_instalment_future_mean", "Future POS instalments", "pos_loans", 0.02),
    ("credit_card_drawings_count", "Card drawings", "card_usage", 0.02),
    ("previous_application_amt_annuity_mean", "Previous annuities, mean", "previous_refusals", 0.01),
    ("application_obs_30_cnt_social_circle", "Social circle observations", "social_circle",
     0.01),
    ("application_hour_appr_process_start", "Hour of application", "application_process", 0.005),
]
# the model's family codes (models_ml.families); labels and reasons are the catalogue's English
# texts, as the batch writes them
FAMILY_LABELS = {f.code: f.label for f in FAMILIES}
PROTECTED = {"age", "family", "gender"}
REASON_TEXT = {f.code: f.reason_text for f in FAMILIES}
# serving.alerts' drift, fairness and back-test records as models_ml/monitoring/step.py
# writes them: the refresh's English message and the figures behind it (made-up figures)
ALERT_DETAILS: list[tuple[str, dict[str, Any]]] = [
    (("population drift: 1 act and 2 watch flags; largest PSI: application_ext_source_2 0.31 "
      "(training)"),
     {"flags": [{"reference": "training", "feature_name": "application_ext_source_2",
                 "psi": 0.3125, "flag": "act"},
                {"reference": "previous_refresh", "feature_name": "score", "psi": 0.18,
                 "flag": "watch"},
                {"reference": "training", "feature_name": "application_days_birth",
                 "psi": 0.12, "flag": "watch"}]}),
    ("four-fifths rule: grant rate below 80 % of the best group for gender=male (0.72)",
     {"groups": [{"attribute": "gender", "group": "male", "grant_rate_ratio": 0.72}]}),
    (("back-test failed (risk under-estimated): band E: predicted 5.0%, observed 9.1% of 1234 "
      "(p = 0.002)"),
     {"bands": [{"risk_band": "E", "as_of": "2025-01-01T06:10:00+00:00", "clients": 1234,
                 "predicted_rate": 0.05, "observed_rate": 0.091, "jeffreys_p": 0.002}]}),
]


def build_serving_warehouse(path: Path, clients: int = 400, seed: int = 7) -> Path:
    """Write the fixture warehouse to `path` (replaced if it exists) and return it."""
    rng = np.random.default_rng(seed)
    path.unlink(missing_ok=True)
    profile = _profile(rng, clients)
    values, z = _features(rng, profile)
    weights = np.array([f[3] for f in FEATURES])
    base_log_odds = -2.45
    shap = z * weights
    log_odds = base_log_odds + shap.sum(axis=1)
    probability = 1 / (1 + np.exp(-log_odds))
    history = profile["population"].to_numpy() == "history"
    outcome = rng.random(clients) < probability
    profile["target"] = pd.array(np.where(history, outcome.astype(int), 0), dtype="Int64")
    profile.loc[~history, "target"] = pd.NA

    scores = _scores(profile, probability, log_odds)
    drivers, families, reasons = _explanations(profile["sk_id_curr"].to_numpy(), values, shap)
    importance = _importance(shap)
    names = [f[0] for f in FEATURES]
    features_frame = pd.DataFrame(values, columns=names)
    features_frame.insert(0, "sk_id_curr", profile["sk_id_curr"].to_numpy())
    features_frame.insert(1, "population", profile["population"].to_numpy())
    features_frame.insert(2, "target", profile["target"].to_numpy())

    con = duckdb.connect(str(path))
    try:
        con.execute("set enable_progress_bar = false")
        for schema in ("marts", "serving"):
            con.execute(f"create schema {schema}")
        _write(con, "marts.client_features", features_frame)
        _write(con, "serving.clients", profile)
        _write(con, "serving.client_scores", scores)
        _write(con, "serving.client_drivers", drivers)
        _write(con, "serving.client_families", families)
        _write(con, "serving.client_reasons", reasons)
        _write(con, "serving.feature_dictionary", _dictionary())
        _write(con, "serving.feature_importance", importance)
        _write(con, "serving.feature_distributions",
               _distributions(features_frame, importance["feature_name"][:DISTRIBUTED]))
        _write(con, "serving.model_runs", _model_runs(profile, probability, base_log_odds))
        _write(con, "serving.model_curves", _curves(profile, probability))
        _write(con, "serving.refresh_runs", _refresh_runs(clients))
        _write(con, "serving.band_outcomes", _band_outcomes(rng, profile, log_odds))
        for name, frame in _monitoring(rng, list(importance["feature_name"][:5])).items():
            _write(con, f"serving.{name}", frame)
        top = list(importance["feature_name"][:TOP_FEATURES])
        feature_values = _feature_values(features_frame, top)
        _write(con, "serving.client_feature_values", feature_values)
        _write(con, "serving.similar_clients",
               _similar(feature_values, importance.set_index("feature_name")["mean_abs_shap"]))
        _write(con, "serving.decisions", _decisions(scores))
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def _decisions(scores: pd.DataFrame) -> Any:
    """A small real decision log (hash-chained by the store): issues, overrides, a contest
    and its review — the copy a refresh takes into serving.decisions."""
    import tempfile

    from warehouse.decisions import DecisionRequest, DecisionStore, Published
    from warehouse.decisions.export import log_table

    why = "Payslips of the last three months confirm a stable income."
    with tempfile.TemporaryDirectory() as tmp:
        store = DecisionStore(f"sqlite:///{tmp}/decisions.sqlite")
        for i, row in enumerate(scores.head(8).itertuples()):
            published = Published(row.model_version, row.probability_default, row.score,
                                  row.threshold, row.decision, [])
            store.append(row.sk_id_curr, DecisionRequest("issued", "alice"), published)
            if i % 3 == 0:
                flipped = "grant" if row.decision == "refuse" else "refuse"
                store.append(row.sk_id_curr, DecisionRequest("overridden", "bob", flipped, why),
                             published)
            if i == 1:
                store.append(row.sk_id_curr, DecisionRequest("contested", "client",
                                                             comment=why), published)
        table = log_table(store.raw_entries())
        store.close()
    return table


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.register("frame_to_write", frame)
    con.execute(f"create table {table} as select * from frame_to_write")
    con.unregister("frame_to_write")


def _profile(rng: np.random.Generator, n: int) -> pd.DataFrame:
    ids = 100002 + np.cumsum(rng.integers(1, 4, n)) - 1
    employed = rng.random(n) > 0.18
    income = np.round(np.exp(rng.normal(11.9, 0.45, n)) / 450) * 450
    credit = np.round(np.exp(rng.normal(13.1, 0.6, n)) / 1000) * 1000
    bureau = rng.poisson(4, n)
    previous = rng.poisson(3, n)
    return pd.DataFrame({
        "sk_id_curr": ids.astype(np.int32),
        "population": np.where(rng.random(n) < 0.14, "pending", "history"),
        "target": pd.array([None] * n, dtype="Int64"),
        "age_years": rng.integers(21, 69, n).astype(np.int32),
        "gender": rng.choice(["female", "male"], n, p=[0.66, 0.34]),
        "family_status": rng.choice(["Married", "Single / not married", "Civil marriage",
                                     "Separated", "Widow"], n, p=[0.64, 0.15, 0.1, 0.06, 0.05]),
        "children": rng.choice([0, 1, 2, 3], n, p=[0.7, 0.2, 0.08, 0.02]).astype(np.int32),
        "education": rng.choice(["Secondary / secondary special", "Higher education",
                                 "Incomplete higher", "Lower secondary"], n,
                                p=[0.71, 0.24, 0.035, 0.015]),
        "income_type": np.where(employed, rng.choice(["Working", "Commercial associate",
                                                      "State servant"], n, p=[0.7, 0.2, 0.1]),
                                "Pensioner"),
        "occupation": np.where(employed & (rng.random(n) > 0.1),
                               rng.choice(["Laborers", "Sales staff", "Core staff", "Managers",
                                           "Drivers"], n), None),
        "organization": np.where(employed, rng.choice(["Business Entity Type 3", "Self-employed",
                                                       "Other", "Medicine", "School"], n), "XNA"),
        "years_employed": np.where(employed, np.round(rng.gamma(1.6, 3.5, n), 1), np.nan),
        "income": income,
        "credit_amount": credit,
        "annuity": np.round(credit / rng.uniform(10, 30, n), 1),
        "goods_price": np.round(credit * rng.uniform(0.8, 1.0, n) / 1000) * 1000,
        "contract_type": rng.choice(["Cash loans", "Revolving loans"], n, p=[0.9, 0.1]),
        "own_car": rng.random(n) < 0.34,
        "own_realty": rng.random(n) < 0.69,
        "region_rating": rng.choice([1, 2, 3], n, p=[0.1, 0.74, 0.16]).astype(np.int32),
        "ext_source_1": np.where(rng.random(n) < 0.56, np.nan, rng.beta(3, 3, n)),
        "ext_source_2": np.where(rng.random(n) < 0.002, np.nan, rng.beta(4, 2.5, n)),
        "ext_source_3": np.where(rng.random(n) < 0.2, np.nan, rng.beta(3.5, 2.5, n)),
        "bureau_loans": bureau.astype(np.int32),
        "bureau_active_loans": rng.binomial(bureau, 0.4).astype(np.int32),
        "previous_applications": previous.astype(np.int32),
        "previous_refused": rng.binomial(previous, 0.2).astype(np.int32),
    })


def _features(rng: np.random.Generator, profile: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Raw feature values (NaN = missing) and their centred, scaled versions z (0 if missing)."""
    n = len(profile)
    ext = profile[["ext_source_1", "ext_source_2", "ext_source_3"]].to_numpy()
    present = np.isfinite(ext).sum(axis=1)
    known = {
        # mean of the known scores; missing when none is known (not NaN-poisoned)
        "application_ext_source_mean": np.where(
            present > 0, np.nansum(ext, axis=1) / np.maximum(present, 1), np.nan),
        "application_ext_source_3": profile["ext_source_3"].to_numpy(),
        "application_ext_source_2": profile["ext_source_2"].to_numpy(),
        "application_ext_source_1": profile["ext_source_1"].to_numpy(),
        "application_credit_to_annuity_ratio":
            (profile["credit_amount"] / profile["annuity"]).to_numpy(),
        "application_credit_to_goods_ratio":
            (profile["credit_amount"] / profile["goods_price"]).to_numpy(),
        "application_annuity_to_income_ratio":
            (profile["annuity"] / profile["income"]).to_numpy(),
        "application_days_birth": -profile["age_years"].to_numpy() * 365.25,
        "application_days_employed": -profile["years_employed"].to_numpy() * 365.25,
        "application_amt_income_total": profile["income"].to_numpy(),
        "application_amt_credit": profile["credit_amount"].to_numpy(),
        "application_amt_goods_price": profile["goods_price"].to_numpy(),
        "application_region_rating_client": profile["region_rating"].to_numpy(dtype=float),
        "application_flag_own_realty": profile["own_realty"].to_numpy(dtype=float),
        "application_cnt_children": profile["children"].to_numpy(dtype=float),
        "bureau_credit_active_count": profile["bureau_active_loans"].to_numpy(dtype=float),
        "previous_application_refused_count": profile["previous_refused"].to_numpy(dtype=float),
    }
    values = np.empty((n, len(FEATURES)))
    for j, (name, *_rest) in enumerate(FEATURES):
        if name in known:
            values[:, j] = known[name]
        else:
            column = rng.gamma(2.0, 1.0, n)
            column[rng.random(n) < 0.1] = np.nan
            values[:, j] = column
    mean = np.nanmean(values, axis=0)
    std = np.nanstd(values, axis=0)
    std[std == 0] = 1.0
    z = np.nan_to_num((values - mean) / std, nan=0.0)
    return values, z


def _band(score: int) -> str:
    return next((band for band, floor in BAND_FLOORS if score >= floor), "E")


def _scores(profile: pd.DataFrame, probability: np.ndarray, log_odds: np.ndarray) -> pd.DataFrame:
    score = np.rint(OFFSET - FACTOR * log_odds).astype(np.int32)
    threshold = 1 / (1 + math.exp(-(OFFSET - (SCORE_CUTOFF + 0.5)) / FACTOR))
    return pd.DataFrame({
        "sk_id_curr": profile["sk_id_curr"].to_numpy(),
        "model_version": MODEL_VERSION,
        "probability_default": probability,
        "score": score,
        "decision": np.where(score <= SCORE_CUTOFF, "refuse", "grant"),
        "threshold": threshold,
        "score_cutoff": np.int32(SCORE_CUTOFF),
        "risk_band": [_band(int(s)) for s in score],
        "scored_at": pd.Timestamp("2025-01-01 06:00:00"),
    })


def _band_outcomes(rng: np.random.Generator, profile: pd.DataFrame, log_odds: np.ndarray
                   ) -> pd.DataFrame:
    """History clients per band of a noisier 'out-of-fold' log-odds (as the real model's folds
    are noisier than the final model), so these bands differ from the in-sample ones."""
    history = (profile["population"] == "history").to_numpy()
    oof = log_odds[history] + rng.normal(0.0, 0.6, int(history.sum()))
    score = np.rint(OFFSET - FACTOR * oof).astype(np.int32)
    frame = pd.DataFrame({"risk_band": [_band(int(s)) for s in score], "score": score,
                          "target": profile.loc[history, "target"].astype(int).to_numpy(),
                          "probability": 1 / (1 + np.exp(-oof))})
    out = frame.groupby("risk_band").agg(
        history_clients=("target", "size"), defaults=("target", "sum"),
        default_rate=("target", "mean"), mean_oof_probability=("probability", "mean"),
        min_score=("score", "min"), max_score=("score", "max")).reset_index()
    out.insert(0, "model_version", MODEL_VERSION)
    return out


def _monitoring(rng: np.random.Generator, features: list[str]) -> dict[str, pd.DataFrame]:
    """serving.drift (two refreshes), fairness, backtest and alerts in their contract shapes
    (made-up figures: test data only)."""
    runs = [("20250101T060000-aaaaaa", pd.Timestamp("2025-01-01 06:10", tz="UTC")),
            ("20250201T060000-bbbbbb", pd.Timestamp("2025-02-01 06:10", tz="UTC"))]
    drift = []
    for (run, at), scale in zip(runs, (0.02, 0.2), strict=True):
        for reference in ("training", "previous_refresh")[: 1 + (run == runs[1][0])]:
            for rank, name in enumerate(["score", *features]):
                psi = float(abs(rng.normal(scale, scale / 2)))
                drift.append({"refresh_run_id": run, "reference": reference,
                              "feature_name": name, "feature_rank": rank, "psi": psi,
                              "flag": "stable" if psi < 0.1 else "watch" if psi <= 0.25
                              else "act", "reference_clients": 300, "current_clients": 100,
                              "computed_at": at})
    fairness = pd.DataFrame({
        "model_version": MODEL_VERSION, "attribute": ["gender", "gender", "gender"],
        "group": ["female", "male", "XNA"], "clients": [180, 110, 2],
        "refusal_rate": [0.20, 0.36, 0.5], "default_rate_granted": [0.05, 0.06, 0.0],
        "tpr": [0.6, 0.7, None], "fpr": [0.15, 0.3, 0.5], "auc": [0.78, 0.76, None],
        "grant_rate_ratio": [1.0, 0.8, 0.625], "demographic_parity_ratio": 0.8,
        "equalized_odds_difference": 0.15, "flag": ["ok", "ok", "small_group"]})
    backtest = pd.DataFrame({
        "model_version": MODEL_VERSION, "as_of": runs[0][1], "refresh_run_id": runs[0][0],
        "risk_band": list("ABCDE"), "clients": [40, 30, 20, 10, 5], "defaults": [1, 1, 2, 2, 3],
        "predicted_rate": [0.02, 0.05, 0.1, 0.2, 0.4], "observed_rate": [0.025, 0.033, 0.1, 0.2,
                                                                          0.6],
        "jeffreys_p": [0.4, 0.7, 0.5, 0.5, 0.2], "auc": 0.74, "flag": "ok"})
    alerts = pd.DataFrame({
        "alert_id": ["a1", "a2", "a3", "a4", "a5"],
        "raised_at": [runs[1][1], runs[1][1] + pd.Timedelta(days=1),
                      *(runs[1][1] + pd.Timedelta(minutes=m) for m in (1, 2, 3))],
        "kind": ["drift", "refresh_failed", "drift", "fairness", "backtest"],
        "severity": ["warning", "critical", "warning", "warning", "warning"],
        "message": ["population drift: 1 act and 2 watch flags", "refresh x failed: boom",
                    *(m for m, _ in ALERT_DETAILS)],
        "refresh_run_id": [runs[1][0], "20250202T060000-cccccc", *[runs[1][0]] * 3],
        # a1 is a record older than the details (its message is all there is)
        "details": ["{}", "{}", *(json.dumps(d) for _, d in ALERT_DETAILS)],
        "webhook_delivery": None})
    return {"drift": pd.DataFrame(drift), "fairness": fairness, "backtest": backtest,
            "alerts": alerts}


def _explanations(ids: np.ndarray, values: np.ndarray,
                  shap: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Top-20 drivers, family sums and up to 4 reasons per client (vectorised: the fixture
    also serves full-scale latency checks)."""
    n, _ = shap.shape
    names = np.array([f[0] for f in FEATURES])
    labels = np.array([f[1] for f in FEATURES])
    family_of = np.array([f[2] for f in FEATURES])
    top = min(20, len(FEATURES))
    order = np.argsort(-np.abs(shap), axis=1, kind="stable")[:, :top]
    rows = np.repeat(np.arange(n), top)
    cols = order.ravel()
    chosen_values = values[rows, cols]
    drivers = pd.DataFrame({
        "sk_id_curr": ids[rows], "model_version": MODEL_VERSION,
        "rank": np.tile(np.arange(1, top + 1, dtype=np.int32), n),
        "feature_name": names[cols], "feature_label": labels[cols], "family": family_of[cols],
        "feature_value": np.where(np.isnan(chosen_values), np.nan, chosen_values),
        "shap_value": shap[rows, cols], "points": -FACTOR * shap[rows, cols]})
    families = list(dict.fromkeys(family_of))
    membership = np.array([[f == fam for fam in families] for f in family_of], dtype=float)
    sums = shap @ membership                       # clients × families, log-odds
    family_frame = pd.DataFrame({
        "sk_id_curr": np.repeat(ids, len(families)), "model_version": MODEL_VERSION,
        "family": np.tile(families, n),
        "family_label": np.tile([FAMILY_LABELS[f] for f in families], n),
        "shap_value": sums.ravel(), "points": -FACTOR * sums.ravel()})
    points = -FACTOR * sums
    allowed = np.array([f not in PROTECTED for f in families])
    eligible = np.where(allowed[None, :] & (points < -1.0), points, np.inf)
    worst = np.argsort(eligible, axis=1, kind="stable")[:, :4]
    worst_points = np.take_along_axis(eligible, worst, axis=1)
    keep = np.isfinite(worst_points)
    reason_rows = np.repeat(np.arange(n), 4)[keep.ravel()]
    reason_families = np.array(families)[worst.ravel()[keep.ravel()]]
    ranks = (np.cumsum(keep, axis=1)[keep]).astype(np.int32)
    reasons = pd.DataFrame({
        "sk_id_curr": ids[reason_rows], "model_version": MODEL_VERSION, "rank": ranks,
        "reason_code": np.char.upper(reason_families.astype(str)),
        "reason_text": [REASON_TEXT[f] for f in reason_families],
        "points": worst_points[keep]})
    return drivers, family_frame, reasons


def _dictionary() -> pd.DataFrame:
    return pd.DataFrame([
        (name, label, family, f"{label} ({FAMILY_LABELS[family].lower()})",
         name.split("_")[0] if not name.startswith("pos_cash") else "pos_cash")
        for name, label, family, _ in FEATURES],
        columns=["feature_name", "feature_label", "family", "description", "source_table"])


def _importance(shap: np.ndarray) -> pd.DataFrame:
    mean_abs = np.abs(shap).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return pd.DataFrame({
        "model_version": MODEL_VERSION,
        "feature_name": [FEATURES[j][0] for j in order],
        "mean_abs_shap": mean_abs[order],
        "gain": mean_abs[order] * 1000.0,
        "rank": np.arange(1, len(order) + 1, dtype=np.int32),
    })


def _distributions(features: pd.DataFrame, names: pd.Series, bins: int = 20) -> pd.DataFrame:
    rows = []
    target = features["target"]
    groups = {"all": np.ones(len(features), bool),
              "outcome_0": (target == 0).fillna(False).to_numpy(bool),
              "outcome_1": (target == 1).fillna(False).to_numpy(bool),
              "pending": (features["population"] == "pending").to_numpy()}
    for name in names:
        column = features[name].to_numpy(dtype=float)
        present = column[np.isfinite(column)]
        low, high = np.quantile(present, [0.01, 0.99])
        high = high if high > low else low + 1.0
        edges = np.linspace(low, high, bins + 1)
        for group, mask in groups.items():
            chosen = column[mask & np.isfinite(column)]
            counts, _ = np.histogram(np.clip(chosen, low, high), bins=edges)
            rows += [(name, group, float(edges[b]), float(edges[b + 1]), int(c))
                     for b, c in enumerate(counts)]
    frame = pd.DataFrame(rows, columns=["feature_name", "group", "bin_low", "bin_high",
                                        "clients"])
    frame["clients"] = frame["clients"].astype(np.int64)
    return frame


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    positives = y.sum()
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def _model_runs(profile: pd.DataFrame, probability: np.ndarray,
                base_log_odds: float) -> pd.DataFrame:
    """Contract columns, then some of the extra columns models_ml publishes (scaling, base)."""
    history = profile["population"].to_numpy() == "history"
    y = profile["target"].to_numpy(dtype=float, na_value=np.nan)[history].astype(int)
    p = probability[history]
    auc = _auc(y, p)
    brier = float(np.mean((p - y) ** 2))
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    params = {"objective": "binary", "learning_rate": 0.08, "num_leaves": 31}
    rows = []
    for version, champion, shift, trained in ((MODEL_VERSION, True, 0.0, datetime(2025, 1, 1)),
                                              (PREVIOUS_VERSION, False, -0.01,
                                               datetime(2024, 12, 1))):
        rows.append({"model_version": version, "trained_at": trained, "is_champion": champion,
                     "n_train": int(history.sum()), "n_features": len(FEATURES),
                     "oof_auc": auc + shift, "fold_auc_mean": auc + shift - 0.002,
                     "fold_auc_std": 0.012, "brier": brier, "log_loss": log_loss, "ks": 0.42,
                     "threshold": 1 / (1 + math.exp(-(OFFSET - (SCORE_CUTOFF + 0.5)) / FACTOR)),
                     "expected_cost": 0.61, "params": json.dumps(params),
                     "score_cutoff": SCORE_CUTOFF, "n_trees": 120,
                     "base_value": base_log_odds,
                     "base_points": OFFSET - FACTOR * base_log_odds,
                     "score_offset": OFFSET, "score_factor": FACTOR, "score_pdo": 20.0})
    return pd.DataFrame(rows)


def _curves(profile: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    history = profile["population"].to_numpy() == "history"
    y = profile["target"].to_numpy(dtype=float, na_value=np.nan)[history].astype(int)
    p = probability[history]
    rows = []
    for i, t in enumerate(np.linspace(1, 0, 41)):
        predicted = p >= t
        tpr = (predicted & (y == 1)).sum() / max((y == 1).sum(), 1)
        fpr = (predicted & (y == 0)).sum() / max((y == 0).sum(), 1)
        rows.append((MODEL_VERSION, "roc", i, float(fpr), float(tpr)))
        fn = (~predicted & (y == 1)).sum()
        fp = (predicted & (y == 0)).sum()
        rows.append((MODEL_VERSION, "cost", 40 - i, float(t), float((10 * fn + fp) / len(y))))
    deciles = np.quantile(p, np.linspace(0, 1, 11))
    for i, (low, high) in enumerate(itertools.pairwise(deciles)):
        mask = (p >= low) & (p <= high)
        if mask.any():
            rows.append((MODEL_VERSION, "calibration", i, float(p[mask].mean()),
                         float(y[mask].mean())))
    frame = pd.DataFrame(rows, columns=["model_version", "curve", "point", "x", "y"])
    frame["point"] = frame["point"].astype(np.int32)
    return frame


def _refresh_runs(clients: int) -> pd.DataFrame:
    started = datetime(2025, 1, 1, 6, 0, 0)
    return pd.DataFrame([{
        "run_id": "20250101T060000Z-fixture", "started_at": started,
        "finished_at": started + timedelta(seconds=95), "status": "success", "retrained": True,
        "published": True, "model_version": MODEL_VERSION, "clients": clients,
        "rows_loaded": clients * 160, "seconds_validate_load": 5.0, "seconds_dbt_marts": 20.0,
        "seconds_train": 40.0, "seconds_score": 20.0, "seconds_dbt_serving": 8.0,
        "seconds_publish": 2.0, "seconds_total": 95.0, "message": None,
        "raw_source": "fixture", "input_fingerprint": "0" * 40}])


def _feature_values(features: pd.DataFrame, top: list[str]) -> pd.DataFrame:
    """Same layout as the dbt model: keys, the scatter-sample flag, the top features."""
    frame = features[["sk_id_curr", "population", "target"]].copy()
    fraction = min(1.0, SCATTER_SAMPLE / len(frame))
    ids = frame["sk_id_curr"].to_numpy(dtype=np.int64)
    frame["in_scatter_sample"] = (ids * 2654435761) % 1000003 < fraction * 1000003
    for name in top:
        frame[name] = features[name].astype(float)
    return frame


def _similar(feature_values: pd.DataFrame, importance: pd.Series) -> pd.DataFrame:
    names = [c for c in importance.index if c in feature_values.columns][:SIMILARITY_FEATURES]
    return nearest_history_neighbours(
        ids=feature_values["sk_id_curr"].to_numpy(),
        values=feature_values[names].to_numpy(dtype=float),
        is_history=(feature_values["population"] == "history").to_numpy(),
        importance=importance[names].to_numpy())
