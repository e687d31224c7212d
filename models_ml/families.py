"""Feature families: what each model feature is about, in words an advisor can say to a client.

This module owns the mapping feature name → family, which families are protected, and the human
label of a feature. Texts — family labels, the plain-language reason text used when a family
raises the risk, French feature labels — are in the message catalogue (i18n, domain `pad`),
translated by code: `family_label`, `reason_text`, `feature_label`. Explanations sum SHAP values per family; reasons are the largest risk-increasing
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

from i18n import translate


@dataclass(frozen=True)
class Family:
    """A family of features. Its label and reason text are in the message catalogue (domain
    `pad`, msgctxt `family` by family code and `reason` by reason code); the English ones are
    what the warehouse stores."""

    code: str
    protected: bool = False

    @property
    def reason_code(self) -> str:
        return self.code.upper()

    @property
    def label(self) -> str:
        return family_label(self.code, "en")

    @property
    def reason_text(self) -> str:
        """The English reason text ('' for a protected family: never a reason)."""
        return "" if self.protected else reason_text(self.reason_code, "en")


FAMILIES: tuple[Family, ...] = tuple(
    [Family(code, protected=True) for code in ("gender", "age", "family")]
    + [Family(code) for code in (
        "external_scores", "late_payments", "payment_behaviour", "previous_refusals",
        "previous_loans", "pos_loans", "card_usage", "bureau_overdue", "bureau_debt",
        "bureau_history", "credit_enquiries", "income_burden", "credit_request", "employment",
        "education", "housing", "documents_contact", "region", "social_circle",
        "application_process", "other")])
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


# --- texts by code (message catalogue) ----------------------------------------------------------

# The features whose label the catalogue translates: the 30 most important of the champion on
# the real data (serving.feature_importance at full scale, 30 Nov 2026). Others keep the label
# `label_feature` builds (English) in every language.
TRANSLATED_FEATURES: tuple[str, ...] = (
    "inst_late_rate", "app_days_birth", "app_ext_source_weighted", "app_ext_source_mean",
    "app_income_credit_perc", "app_annuity_income_perc", "inst_dpd_mean", "app_ext_source_min",
    "app_credit_annuity_ratio", "inst_dpd_sum", "app_ext_source_max",
    "app_total_annuity_income_ratio", "bureau_debt_income_ratio_active",
    "prev_app_credit_perc_min_refused", "prev_days_decision_mean_refused",
    "prev_app_credit_perc_var_refused", "app_payment_rate", "app_goods_income_ratio",
    "app_days_employed", "app_days_registration", "prev_name_contract_status_refused_share",
    "app_amt_annuity", "app_days_id_publish", "app_amt_income_total", "app_ext_source_3",
    "inst_dpd_max", "prev_count_refused", "app_registration_age_ratio",
    "prev_amt_credit_mean_refused", "bureau_credit_day_overdue_max",
)


def family_label(code: str, lang: str, default: str | None = None) -> str:
    """A family's label, e.g. 'Late payments' / 'Retards de paiement' (`default` for a code
    the catalogue lacks, else KeyError)."""
    return translate("family", code, lang, default=default)


def reason_text(reason_code: str, lang: str, default: str | None = None) -> str:
    """The plain-language text of a reason code (upper-case family code)."""
    return translate("reason", reason_code, lang, default=default)


def feature_label(feature_name: str, lang: str, default: str) -> str:
    """A feature's label in `lang`; `default` (the catalog's English label) when the catalogue
    has none for it."""
    return translate("feature", feature_name, lang, default=default)


def catalogue_codes() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of every coded text this module needs (i18n/pad.cfg extracts them)."""
    return ([("family", f.code) for f in FAMILIES]
            + [("reason", f.reason_code) for f in FAMILIES if not f.protected]
            + [("feature", name) for name in TRANSLATED_FEATURES])
