"""The feature mart against pandas: a dozen features recomputed the kernel's way from the CSVs.

The kernel ("LightGBM with Simple Features") semantics, with the warehouse's documented NaN
rules (CONTRACTS §5): x/0 is missing (pandas gives inf, replaced by NaN here), aggregates skip
NaN, sums of all-NaN groups are 0, variances use ddof=1; DPD/DBD of a missing payment stay
missing (the kernel's lambda made them 0).
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.warehouse.conftest import Build

pytestmark = pytest.mark.dbt

DAYS_SENTINEL = 365243


def read(raw: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(raw / name)


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator).replace([np.inf, -np.inf], np.nan)


def pandas_sum(values: pd.Series, keys: pd.Series) -> pd.Series:
    return values.groupby(keys).sum()  # min_count=0: all-NaN groups sum to 0


@pytest.fixture(scope="module")
def features(dbt_build: Build) -> pd.DataFrame:
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        return con.execute("select * from marts.client_features").df().set_index("sk_id_curr")
    finally:
        con.close()


@pytest.fixture(scope="module")
def catalog(dbt_build: Build) -> pd.DataFrame:
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        return con.execute("select * from marts.feature_catalog order by position").df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def expected(dbt_build: Build) -> pd.DataFrame:
    """The features recomputed in pandas, indexed by client."""
    raw = dbt_build.raw
    app = pd.concat([read(raw, "application_train.csv"), read(raw, "application_test.csv")])
    app = app.set_index("SK_ID_CURR")
    app["DAYS_EMPLOYED"] = app["DAYS_EMPLOYED"].replace(DAYS_SENTINEL, np.nan)
    out = pd.DataFrame(index=app.index)
    out["app_days_employed_perc"] = ratio(app["DAYS_EMPLOYED"], app["DAYS_BIRTH"])
    out["app_payment_rate"] = ratio(app["AMT_ANNUITY"], app["AMT_CREDIT"])
    out["app_name_income_type_working"] = (app["NAME_INCOME_TYPE"] == "Working").astype(float)

    bureau = read(raw, "bureau.csv")
    bb = read(raw, "bureau_balance.csv")
    bb = pd.get_dummies(bb, columns=["STATUS"], dummy_na=True, dtype=float)
    bb_agg = bb.groupby("SK_ID_BUREAU").agg(
        MONTHS_BALANCE_SIZE=("MONTHS_BALANCE", "size"), STATUS_0_MEAN=("STATUS_0", "mean"))
    bureau = bureau.join(bb_agg, on="SK_ID_BUREAU", how="left")
    by_client = bureau.groupby("SK_ID_CURR")
    out["bureau_days_credit_var"] = by_client["DAYS_CREDIT"].var()
    out["bureau_bb_months_balance_size_mean"] = by_client["MONTHS_BALANCE_SIZE"].mean()
    out["bureau_bb_status_0_share_mean"] = by_client["STATUS_0_MEAN"].mean()
    active = bureau[bureau["CREDIT_ACTIVE"] == "Active"]
    out["bureau_amt_credit_sum_debt_sum_active"] = pandas_sum(
        active["AMT_CREDIT_SUM_DEBT"], active["SK_ID_CURR"])
    closed = bureau[bureau["CREDIT_ACTIVE"] == "Closed"]
    out["bureau_days_credit_enddate_mean_closed"] = closed.groupby("SK_ID_CURR")[
        "DAYS_CREDIT_ENDDATE"].mean()

    prev = read(raw, "previous_application.csv")
    prev["APP_CREDIT_PERC"] = ratio(prev["AMT_APPLICATION"], prev["AMT_CREDIT"])
    out["prev_app_credit_perc_mean"] = prev.groupby("SK_ID_CURR")["APP_CREDIT_PERC"].mean()
    refused = prev[prev["NAME_CONTRACT_STATUS"] == "Refused"]
    out["prev_app_credit_perc_var_refused"] = refused.groupby("SK_ID_CURR")["APP_CREDIT_PERC"].var()
    approved = prev[prev["NAME_CONTRACT_STATUS"] == "Approved"]
    out["prev_cnt_payment_sum_approved"] = pandas_sum(approved["CNT_PAYMENT"], approved["SK_ID_CURR"])
    out["prev_name_contract_status_refused_share"] = (
        (prev["NAME_CONTRACT_STATUS"] == "Refused").astype(float).groupby(prev["SK_ID_CURR"]).mean())

    pos = read(raw, "POS_CASH_balance.csv")
    out["pos_sk_dpd_def_mean"] = pos.groupby("SK_ID_CURR")["SK_DPD_DEF"].mean()
    out["pos_count"] = pos.groupby("SK_ID_CURR").size()

    ins = read(raw, "installments_payments.csv")
    ins["PAYMENT_PERC"] = ratio(ins["AMT_PAYMENT"], ins["AMT_INSTALMENT"])
    ins["PAYMENT_DIFF"] = ins["AMT_INSTALMENT"] - ins["AMT_PAYMENT"]
    ins["DPD"] = (ins["DAYS_ENTRY_PAYMENT"] - ins["DAYS_INSTALMENT"]).clip(lower=0)
    by_client = ins.groupby("SK_ID_CURR")
    out["inst_payment_perc_mean"] = by_client["PAYMENT_PERC"].mean()
    out["inst_payment_diff_var"] = by_client["PAYMENT_DIFF"].var()
    out["inst_dpd_mean"] = by_client["DPD"].mean()
    out["inst_num_instalment_version_nunique"] = by_client["NUM_INSTALMENT_VERSION"].nunique()
    recent = ins[ins["DAYS_INSTALMENT"] >= -365]
    out["inst_dpd_max_12m"] = recent.groupby("SK_ID_CURR")["DPD"].max()

    cc = read(raw, "credit_card_balance.csv")
    by_client = cc.groupby("SK_ID_CURR")
    out["cc_amt_balance_var"] = by_client["AMT_BALANCE"].var()
    out["cc_amt_drawings_atm_current_sum"] = by_client["AMT_DRAWINGS_ATM_CURRENT"].sum()
    out["cc_count"] = by_client.size()
    return out


def test_one_row_per_application(dbt_build: Build, features: pd.DataFrame) -> None:
    train = read(dbt_build.raw, "application_train.csv")
    test = read(dbt_build.raw, "application_test.csv")
    assert len(features) == len(train) + len(test)
    assert features.index.is_unique
    assert set(features.index) == set(train["SK_ID_CURR"]) | set(test["SK_ID_CURR"])
    history = features["population"] == "history"
    assert history.sum() == len(train)
    assert features.loc[history, "target"].notna().all()
    assert features.loc[~history, "target"].isna().all()
    targets = train.set_index("SK_ID_CURR")["TARGET"]
    assert (features.loc[targets.index, "target"] == targets).all()


def test_columns_are_the_catalog(features: pd.DataFrame, catalog: pd.DataFrame) -> None:
    assert list(features.columns[:2]) == ["population", "target"]
    assert list(features.columns[2:]) == list(catalog["feature_name"])
    assert len(catalog) >= 800
    assert catalog["description"].str.len().min() > 20
    assert catalog["feature_name"].str.fullmatch(r"(app|bureau|prev|pos|inst|cc)_[a-z0-9_]+").all()


def test_no_infinite_values(features: pd.DataFrame) -> None:
    numeric = features.drop(columns=["population"]).astype(float)
    infinite = [c for c in numeric if np.isinf(numeric[c]).any()]
    assert infinite == []


def test_features_match_pandas(features: pd.DataFrame, expected: pd.DataFrame) -> None:
    mismatched = {}
    for name in expected.columns:
        ours = features[name].astype(float)
        theirs = expected[name].reindex(features.index).astype(float)
        same_missing = ours.isna() == theirs.isna()
        close = np.isclose(ours, theirs, rtol=1e-9, atol=1e-9) | (ours.isna() & theirs.isna())
        if not (same_missing.all() and close.all()):
            bad = ~(same_missing & close)
            mismatched[name] = pd.DataFrame({"ours": ours[bad], "pandas": theirs[bad]}).head(3)
    assert not mismatched, mismatched
    assert len(expected.columns) >= 12


def test_sentinel_and_missing_levels_are_null(dbt_build: Build) -> None:
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        days = con.execute(
            "select count(*) filter (where days_employed = 365243), "
            "count(*) filter (where days_employed is null) "
            "from staging.stg_homecredit__applications").fetchone()
        raw_days = con.execute(
            "select count(*) from (select days_employed from raw.application_train "
            "union all select days_employed from raw.application_test) "
            "where days_employed = 365243").fetchone()[0]
        prev = con.execute(
            "select count(*) filter (where days_first_due = 365243 or days_termination = 365243 "
            "or name_client_type in ('XNA', 'XAP') or code_reject_reason in ('XNA', 'XAP')) "
            "from staging.stg_homecredit__previous_applications").fetchone()[0]
    finally:
        con.close()
    assert days == (0, raw_days)
    assert prev == 0


def test_client_profile_in_human_units(dbt_build: Build) -> None:
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        profile = con.execute("select * from marts.client_profile").df().set_index("sk_id_curr")
        app = con.execute(
            "select sk_id_curr, days_birth, days_employed from staging.stg_homecredit__applications"
        ).df().set_index("sk_id_curr")
        bureau = con.execute(
            "select sk_id_curr, count(*) as n, count(*) filter (where credit_active = 'Active') as a "
            "from raw.bureau group by all").df().set_index("sk_id_curr")
    finally:
        con.close()
    assert profile["age_years"].between(18, 80).all()
    assert (profile["years_employed"].isna() == app.loc[profile.index, "days_employed"].isna()).all()
    assert set(profile["gender"].dropna()) <= {"female", "male"}
    loans = bureau["n"].reindex(profile.index).fillna(0)
    assert (profile["bureau_loans"] == loans).all()
    active = bureau["a"].reindex(profile.index).fillna(0)
    assert (profile["bureau_active_loans"] == active).all()
    contract_columns = {
        "age_years", "gender", "family_status", "children", "education", "income_type",
        "occupation", "organization", "years_employed", "income", "credit_amount", "annuity",
        "goods_price", "contract_type", "own_car", "own_realty", "region_rating", "ext_source_1",
        "ext_source_2", "ext_source_3", "bureau_loans", "bureau_active_loans",
        "previous_applications", "previous_refused",
    }
    assert contract_columns <= set(profile.columns)


def test_interest_rate_reconstruction_prices_the_loans(dbt_build: Build) -> None:
    """Recomputing the annuity from the reconstructed rate gives back AMT_ANNUITY."""
    con = duckdb.connect(str(dbt_build.db_path), read_only=True)
    try:
        prev = con.execute(
            "select amt_annuity, amt_credit, cnt_payment, monthly_rate "
            "from intermediate.int_previous_applications_enriched where monthly_rate > 0").df()
    finally:
        con.close()
    assert len(prev) > 0
    r, n = prev["monthly_rate"], prev["cnt_payment"]
    annuity = prev["amt_credit"] * r / (1 - (1 + r) ** -n)
    assert np.allclose(annuity, prev["amt_annuity"], rtol=1e-6)
