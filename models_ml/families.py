"""Feature families: what each model feature is about, in words an advisor can say to a client.

This module owns the mapping feature name → family (with its label and the plain-language reason
text used when the family raises the risk), which families are protected, and the human label
of a feature. Explanations sum SHAP values per family; reasons are the largest risk-increasing
families that are not protected.

Protected families — `gender`, `age`, `family` — are never cited as a reason (CONTRACTS §5). A
feature goes there when its name or its catalog source columns involve CODE_GENDER, DAYS_BIRTH,
NAME_FAMILY_STATUS, CNT_FAM_MEMBERS, CNT_CHILDREN or NAME_TYPE_SUITE: ratios scaled by age
(e.g. phone change / age) or by family size (income per person) carry the attribute too, so they
are classified conservatively. The attributes may still be model inputs (gender is excluded by
default, see models_ml.config); they just never become a reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    code: str
    label: str
    reason_text: str
    protected: bool = False

    @property
    def reason_code(self) -> str:
        return self.code.upper()


FAMILIES: tuple[Family, ...] = (
    Family("gender", "Gender", "", protected=True),
    Family("age", "Age", "", protected=True),
    Family("family", "Family situation", "", protected=True),
    Family("external_scores", "External credit scores", "Low scores from external credit sources"),
    Family("late_payments", "Late payments", "Late payments on previous instalments"),
    Family("payment_behaviour", "Instalment payments",
           "Previous instalments paid short, irregularly or not at all"),
    Family("previous_refusals", "Refused applications", "Previous credit applications refused"),
    Family("previous_loans", "Previous applications",
           "Amounts, prices or terms of previous credit applications"),
    Family("pos_loans", "Point-of-sale and cash loans",
           "History of point-of-sale and cash loans"),
    Family("card_usage", "Credit card usage", "High use of credit card limits or cash drawings"),
    Family("bureau_overdue", "Overdue credits elsewhere",
           "Overdue credits reported by the Credit Bureau"),
    Family("bureau_debt", "Debt with other lenders", "High outstanding debt with other lenders"),
    Family("bureau_history", "Credit Bureau history", "Short or unfavourable credit history with "
           "other lenders"),
    Family("credit_enquiries", "Recent credit enquiries", "Many recent enquiries to the Credit "
           "Bureau"),
    Family("income_burden", "Repayment burden", "Repayments high relative to income"),
    Family("credit_request", "Credit requested", "Amount or term of the credit requested"),
    Family("employment", "Employment", "Short, unstable or no current employment"),
    Family("education", "Education", "Level of education"),
    Family("housing", "Housing and assets", "Housing situation and assets"),
    Family("documents_contact", "Documents and contact details",
           "Missing documents or recent changes of identity, phone or address"),
    Family("region", "Region and address", "Region of residence or address inconsistencies"),
    Family("social_circle", "Social surroundings", "Defaults among the client's social "
           "surroundings"),
    Family("application_process", "Application circumstances",
           "Circumstances of the application (day and hour)"),
    Family("other", "Other information", "Other information in the file"),
)
FAMILY_BY_CODE: dict[str, Family] = {f.code: f for f in FAMILIES}
PROTECTED_FAMILIES: frozenset[str] = frozenset(f.code for f in FAMILIES if f.protected)

# Source columns that make a feature protected, whatever its name (catalog source_column).
_PROTECTED_SOURCES: tuple[tuple[str, str], ...] = (
    ("CODE_GENDER", "gender"),
    ("DAYS_BIRTH", "age"),
    ("NAME_FAMILY_STATUS", "family"),
    ("CNT_FAM_MEMBERS", "family"),
    ("CNT_CHILDREN", "family"),
    ("NAME_TYPE_SUITE", "family"),
)

# Ordered rules on the feature name; the first match wins, so specific rules come first.
_NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"gender", "gender"),
    (r"^app_days_birth$|_age_ratio$|^app_days_employed_perc$", "age"),
    (r"family_status|fam_members|cnt_children|income_per_person|income_per_child|type_suite",
     "family"),
    (r"ext_source", "external_scores"),
    (r"^(inst|pos|cc)_(.+_)?(dpd|late|late30)(_|$)", "late_payments"),
    (r"^prev_(.+_)?(refused|reject)(_|$)", "previous_refusals"),
    (r"^bureau_(.+_)?(overdue|dpd|worst)(_|$)|^bureau_bb_status_[1-5]_share", "bureau_overdue"),
    (r"^bureau_(.+_)?(debt|annuity|limit)(_|$)|^bureau_amt_credit_sum_(max|mean|sum)",
     "bureau_debt"),
    (r"^bureau_", "bureau_history"),
    (r"^cc_", "card_usage"),
    (r"^pos_", "pos_loans"),
    (r"^inst_", "payment_behaviour"),
    (r"^prev_", "previous_loans"),
    (r"amt_req_credit_bureau|credit_bureau_requests", "credit_enquiries"),
    (r"social_circle|social_ratio", "social_circle"),
    ((r"^app_(amt_income_total|amt_annuity|annuity_income_perc|income_credit_perc"
     r"|total_annuity_income_ratio|goods_income_ratio|annuity_prev_annuity_ratio"
     r"|annuity_last_prev_ratio)$"), "income_burden"),
    ((r"^app_(amt_credit|amt_goods_price|credit_goods_ratio|credit_annuity_ratio|payment_rate"
     r"|credit_prev_credit_ratio|credit_bureau_credit_ratio)$|^app_name_contract_type_"),
     "credit_request"),
    ((r"^app_(days_employed|flag_emp_phone)$|^app_(name_income_type|occupation_type"
     r"|organization_type)_"), "employment"),
    (r"^app_name_education_type_", "education"),
    ((r"^app_(flag_own_car|flag_own_realty|own_car_age)$|^app_name_housing_type_"
     r"|^app_.+_(avg|mode|medi)$|^app_(fondkapremont|housetype|wallsmaterial|emergencystate)_mode_"),
     "housing"),
    ((r"^app_flag_document_|^app_document_count$|^app_(flag_mobil|flag_work_phone|flag_cont_mobile"
     r"|flag_phone|flag_email|contact_count|days_last_phone_change|days_id_publish"
     r"|days_registration)$"), "documents_contact"),
    (r"^app_region_|^app_(reg|live)_(region|city)_not_|^app_address_mismatch_count$", "region"),
    (r"^app_hour_appr_process_start$|^app_weekday_appr_process_start_", "application_process"),
)
_COMPILED_RULES = tuple((re.compile(pattern), family) for pattern, family in _NAME_RULES)


def assign_family(feature_name: str, source_column: str | None = None) -> str:
    """The family code of a feature (protected source columns first, then the name rules)."""
    sources = (source_column or "").upper()
    for column, family in _PROTECTED_SOURCES:
        if re.search(rf"\b{column}\b", sources):
            return family
    for pattern, family in _COMPILED_RULES:
        if pattern.search(feature_name):
            return family
    return "other"


def is_excluded(feature_name: str, source_column: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether a feature is kept out of the model: a pattern occurs in its name or sources."""
    haystacks = (feature_name.lower(), (source_column or "").lower())
    return any(p and p in text for p in patterns for text in haystacks)


# --- human labels -------------------------------------------------------------------------------

_TABLE_LABELS: tuple[tuple[str, str], ...] = (
    ("bureau_bb_", "Credit Bureau monthly balances"),
    ("bureau_", "Credit Bureau"),
    ("prev_", "Previous applications"),
    ("pos_", "POS and cash loans"),
    ("inst_", "Instalments"),
    ("cc_", "Credit card"),
    ("app_", "Application"),
)
_WORDS = {
    "amt": "amount", "cnt": "count", "dpd": "days past due", "dbd": "days paid early",
    "perc": "ratio", "def": "defaults", "obs": "observed", "num": "number", "ext": "external",
    "appr": "approval", "req": "requests", "fam": "family", "mon": "month", "qrt": "quarter",
    "avg": "average", "medi": "median", "sk": "", "id": "", "prev": "previous loans",
    "recivable": "receivable", "inst": "instalment", "atm": "ATM", "pos": "POS",
    "hc": "HC", "sco": "SCO", "scofr": "SCOFR", "xna": "XNA", "it": "IT", "hr": "HR",
}
_AGG_WORDS = {
    "mean": "mean", "max": "max", "min": "min", "sum": "total", "var": "variance",
    "std": "std. dev.", "share": "share", "rate": "rate", "nunique": "distinct",
    "count": "number", "last": "latest", "slope": "trend", "size": "months",
}
_SPLIT_WORDS = {
    "active": "active credits", "closed": "closed credits", "approved": "approved",
    "refused": "refused", "12m": "last 12 months", "last3": "last 3 applications",
    "running": "running loans", "m1": "last month",
}


def label_feature(feature_name: str, aggregation: str | None = None,
                  split_or_window: str | None = None) -> str:
    """A short human label, e.g. 'Credit Bureau: amount credit sum debt (total, active credits)'."""
    table, rest = _split_table(feature_name)
    qualifiers: list[str] = []
    split = split_or_window or ""
    if split and rest.endswith("_" + split):
        rest = rest[: -len(split) - 1]
    agg = aggregation or ""
    if agg in _AGG_WORDS and (rest.endswith("_" + agg) or rest == agg):
        rest = rest[: -len(agg) - 1] if rest != agg else ""
        qualifiers.append(_AGG_WORDS[agg])
    if split:
        qualifiers.append(_SPLIT_WORDS.get(split, split.replace("_", " ")))
    words = " ".join(w for w in (_WORDS.get(t, t) for t in rest.split("_")) if w)
    text = f"{table}: {words}" if words else table
    return f"{text} ({', '.join(qualifiers)})" if qualifiers else text


def _split_table(feature_name: str) -> tuple[str, str]:
    for prefix, label in _TABLE_LABELS:
        if feature_name.startswith(prefix):
            return label, feature_name[len(prefix):]
    return "Feature", feature_name
