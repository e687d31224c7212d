"""Feature families: mapping, protected attributes, reason texts, labels, exclusions."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models_ml.families import (
    FAMILIES,
    FAMILY_BY_CODE,
    PROTECTED_FAMILIES,
    assign_family,
    is_excluded,
    label_feature,
)
from warehouse.config import DBT_PROJECT_DIR

SERVING_YML = Path(DBT_PROJECT_DIR) / "models" / "serving" / "_serving__models.yml"


@pytest.mark.parametrize(("name", "source", "family"), [
    ("app_ext_source_mean", "EXT_SOURCE_1, EXT_SOURCE_2, EXT_SOURCE_3", "external_scores"),
    ("inst_late_rate_12m", "DAYS_ENTRY_PAYMENT, DAYS_INSTALMENT", "late_payments"),
    ("pos_sk_dpd_def_max", "SK_DPD_DEF", "late_payments"),
    ("inst_payment_perc_mean", "AMT_PAYMENT / AMT_INSTALMENT", "payment_behaviour"),
    ("prev_name_contract_status_refused_share", "NAME_CONTRACT_STATUS", "previous_refusals"),
    ("prev_amt_credit_mean_approved", "AMT_CREDIT", "previous_loans"),
    ("bureau_amt_credit_sum_overdue_sum_active", "AMT_CREDIT_SUM_OVERDUE", "bureau_overdue"),
    ("bureau_bb_status_2_share_mean", "STATUS", "bureau_overdue"),
    ("bureau_debt_income_ratio_active", "AMT_CREDIT_SUM_DEBT, AMT_INCOME_TOTAL", "bureau_debt"),
    ("bureau_days_credit_mean", "DAYS_CREDIT", "bureau_history"),
    ("cc_utilization_mean_12m", "AMT_BALANCE", "card_usage"),
    ("app_annuity_income_perc", "AMT_ANNUITY, AMT_INCOME_TOTAL", "income_burden"),
    ("app_credit_goods_ratio", "AMT_CREDIT, AMT_GOODS_PRICE", "credit_request"),
    ("app_days_employed", "DAYS_EMPLOYED", "employment"),
    ("app_organization_type_self_employed", "ORGANIZATION_TYPE", "employment"),
    ("app_apartments_avg", "APARTMENTS_AVG", "housing"),
    ("app_flag_document_3", "FLAG_DOCUMENT_3", "documents_contact"),
    ("app_region_rating_client", "REGION_RATING_CLIENT", "region"),
    ("app_amt_req_credit_bureau_year", "AMT_REQ_CREDIT_BUREAU_YEAR", "credit_enquiries"),
    # protected, by name or by source column
    ("app_code_gender_m", "CODE_GENDER", "gender"),
    ("app_days_birth", "DAYS_BIRTH", "age"),
    ("app_phone_change_age_ratio", "DAYS_LAST_PHONE_CHANGE, DAYS_BIRTH", "age"),
    ("app_some_new_ratio", "AMT_INCOME_TOTAL, DAYS_BIRTH", "age"),
    ("app_name_family_status_married", "NAME_FAMILY_STATUS", "family"),
    ("app_income_per_person", "AMT_INCOME_TOTAL, CNT_FAM_MEMBERS", "family"),
    ("app_cnt_children", "CNT_CHILDREN", "family"),
])
def test_assign_family(name: str, source: str, family: str) -> None:
    assert assign_family(name, source) == family


def test_protected_families_have_no_reason_and_the_others_do() -> None:
    assert PROTECTED_FAMILIES == {"gender", "age", "family"}
    for family in FAMILIES:
        assert bool(family.reason_text) != family.protected, family.code


def test_serving_tests_accept_exactly_the_non_protected_reason_codes() -> None:
    models = {m["name"]: m for m in yaml.safe_load(SERVING_YML.read_text())["models"]}

    def accepted(model: str, column: str) -> set[str]:
        col = next(c for c in models[model]["columns"] if c["name"] == column)
        test = next(t for t in col["data_tests"] if isinstance(t, dict) and "accepted_values" in t)
        return set(test["accepted_values"]["arguments"]["values"])

    assert accepted("client_reasons", "reason_code") == {
        f.reason_code for f in FAMILIES if not f.protected}
    assert accepted("client_families", "family") == set(FAMILY_BY_CODE)


def test_exclusion_covers_columns_derived_from_gender() -> None:
    patterns = ("code_gender",)
    assert is_excluded("app_code_gender_m", "CODE_GENDER", patterns)
    assert is_excluded("app_sex_income_ratio", "CODE_GENDER, AMT_INCOME_TOTAL", patterns)
    assert not is_excluded("app_days_birth", "DAYS_BIRTH", patterns)
    assert not is_excluded("app_code_gender_m", "CODE_GENDER", ())


def test_labels_are_readable() -> None:
    assert label_feature("bureau_amt_credit_sum_debt_sum_active", "sum", "active") == \
        "Credit Bureau: amount credit sum debt (total, active credits)"
    assert label_feature("app_ext_source_3", "value", None) == "Application: external source 3"
    assert label_feature("inst_late_rate_12m", "rate", "12m") == \
        "Instalments: late (rate, last 12 months)"
    assert label_feature("bureau_bb_dpd_share_max", "max", None) == \
        "Credit Bureau monthly balances: days past due share (max)"


def test_family_sums_are_the_same_bits_whatever_the_chunk() -> None:
    """A client's family sums do not depend on the rows scored beside it: the whole portfolio
    in one chunk and a partitioned refresh's small buckets publish the same bits."""
    import numpy as np

    from models_ml.explain import FeatureInfo, sum_families

    rng = np.random.default_rng(7)
    codes = [f.code for f in FAMILIES]
    families = np.array([codes[i % 7] for i in rng.permutation(400)], dtype=object)
    info = FeatureInfo(labels=np.array([f"f{i}" for i in range(400)], dtype=object),
                       families=families)
    shap_values = rng.normal(scale=0.05, size=(3000, 400))
    present, whole = sum_families(info, shap_values)
    assert present == [c for c in codes if c in set(families)]
    parts = [sum_families(info, shap_values[s:s + n])[1]
             for s, n in ((0, 1), (1, 7), (8, 375), (383, 2617))]
    np.testing.assert_array_equal(np.vstack(parts), whole)
    np.testing.assert_allclose(whole.sum(axis=1), shap_values.sum(axis=1), rtol=0, atol=1e-12)
