"""A small hand-built feature mart (marts.client_features + marts.feature_catalog) in a DuckDB
file, so the models_ml tests do not depend on the dbt project.

The default risk is a known logistic function of a few features from different families —
including age (protected) and gender (excluded from the model) — plus pure-noise features, so
tests can check what the model learns, which families it cites and which it must never cite.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

# name → (source_table, source_column, aggregation, split_or_window)
FEATURES: dict[str, tuple[str, str, str, str | None]] = {
    "app_ext_source_2": ("application", "EXT_SOURCE_2", "value", None),
    "app_ext_source_3": ("application", "EXT_SOURCE_3", "value", None),
    "inst_late_rate": ("installments_payments", "DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT", "rate",
                       None),
    "bureau_amt_credit_sum_debt_sum_active": ("bureau", "AMT_CREDIT_SUM_DEBT", "sum", "active"),
    "prev_count_refused": ("previous_application", "", "count", "refused"),
    "cc_utilization_mean": ("credit_card_balance", "AMT_BALANCE, AMT_CREDIT_LIMIT_ACTUAL",
                            "mean", None),
    "app_annuity_income_perc": ("application", "AMT_ANNUITY, AMT_INCOME_TOTAL", "ratio", None),
    "app_days_birth": ("application", "DAYS_BIRTH", "value", None),
    "app_days_employed": ("application", "DAYS_EMPLOYED", "value", None),
    "app_code_gender_m": ("application", "CODE_GENDER", "binary", None),
    "app_name_family_status_married": ("application", "NAME_FAMILY_STATUS", "one_hot", None),
    "app_cnt_children": ("application", "CNT_CHILDREN", "value", None),
    "app_flag_document_3": ("application", "FLAG_DOCUMENT_3", "value", None),
    "app_region_rating_client": ("application", "REGION_RATING_CLIENT", "value", None),
    "pos_count": ("pos_cash_balance", "", "count", None),
    "app_noise_1": ("application", "", "value", None),
    "app_noise_2": ("application", "", "value", None),
}


def make_features(clients: int, seed: int, pending_share: float = 0.15) -> pd.DataFrame:
    """Feature rows with population and target; pending clients have target null."""
    rng = np.random.default_rng(seed)
    n = clients
    age = rng.uniform(21, 69, n)
    frame = pd.DataFrame({
        "sk_id_curr": np.arange(100001, 100001 + n, dtype=np.int64),
        "app_ext_source_2": rng.beta(4, 3, n),
        "app_ext_source_3": np.where(rng.random(n) < 0.2, np.nan, rng.beta(4, 3, n)),
        "inst_late_rate": np.where(rng.random(n) < 0.1, np.nan, rng.beta(0.6, 8, n)),
        "bureau_amt_credit_sum_debt_sum_active": rng.gamma(1.2, 150000, n),
        "prev_count_refused": rng.poisson(0.6, n).astype(np.float64),
        "cc_utilization_mean": np.where(rng.random(n) < 0.7, np.nan, rng.uniform(0, 1.1, n)),
        "app_annuity_income_perc": rng.uniform(0.03, 0.5, n),
        "app_days_birth": -age * 365.25,
        "app_days_employed": np.where(rng.random(n) < 0.18, np.nan, -rng.gamma(2, 700, n)),
        "app_code_gender_m": rng.integers(0, 2, n).astype(np.float64),
        "app_name_family_status_married": rng.integers(0, 2, n).astype(np.float64),
        "app_cnt_children": rng.poisson(0.4, n).astype(np.float64),
        "app_flag_document_3": rng.integers(0, 2, n).astype(np.float64),
        "app_region_rating_client": rng.integers(1, 4, n).astype(np.float64),
        "pos_count": rng.poisson(12, n).astype(np.float64),
        "app_noise_1": rng.normal(0, 1, n),
        "app_noise_2": rng.normal(0, 1, n),
    })
    ext = np.nanmean(frame[["app_ext_source_2", "app_ext_source_3"]].to_numpy(), axis=1)
    # ≈ 13 % defaults, oracle AUC ≈ 0.86
    log_odds = (-6.0 - 10.0 * (ext - 0.55)
                + 6.0 * np.sqrt(frame["inst_late_rate"].fillna(0.1))
                + 0.5 * frame["prev_count_refused"]
                + 1.5 * frame["cc_utilization_mean"].fillna(0.0)
                + 3.0 * frame["app_annuity_income_perc"]
                + 0.06 * np.maximum(45 - age, 0)
                + 0.5 * frame["app_code_gender_m"])
    target = (rng.random(n) < 1 / (1 + np.exp(-log_odds))).astype(np.int64)
    pending = rng.random(n) < pending_share
    frame.insert(1, "population", np.where(pending, "pending", "history"))
    frame.insert(2, "target", pd.array(np.where(pending, 0, target), dtype="Int64"))
    frame.loc[pending, "target"] = pd.NA
    return frame


def catalog_frame() -> pd.DataFrame:
    rows = []
    for position, (name, (table, column, agg, split)) in enumerate(FEATURES.items(), start=1):
        rows.append({"position": position, "feature_name": name,
                     "description": f"Synthetic test feature {name}.", "family": table,
                     "source_table": table, "source_column": column, "aggregation": agg,
                     "split_or_window": split})
    return pd.DataFrame(rows)


def write_feature_mart(db_path: Path, clients: int = 3000, seed: int = 7) -> pd.DataFrame:
    """Create marts.client_features and marts.feature_catalog in `db_path`; returns the rows."""
    frame = make_features(clients, seed)
    catalog = catalog_frame()
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema if not exists marts")
        con.register("_features", frame)
        con.execute("create or replace table marts.client_features as select * from _features")
        con.register("_catalog", catalog)
        con.execute("create or replace table marts.feature_catalog as select * from _catalog")
    finally:
        con.close()
    return frame


def update_clients(db_path: Path, ids: list[int], column: str, value: float) -> None:
    """Change one feature of some clients (to test incremental scoring)."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"update marts.client_features set {column} = ? "
                    f"where sk_id_curr in ({', '.join(str(i) for i in ids)})", [value])
    finally:
        con.close()
