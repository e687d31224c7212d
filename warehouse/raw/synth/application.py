"""application_train / application_test rows for a block of clients.

Every client gets a latent risk `z` (standard normal, higher = riskier) that the other tables'
behaviour also reads, so late payments, bureau overdue, refusals, utilisation and the external
scores are correlated the way a real portfolio's are. TARGET is added later by `truth.py`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from warehouse.raw.schema import table
from warehouse.raw.synth.common import (
    SENTINEL_DAYS,
    Cat,
    draw,
    levels_with_weights,
    money,
    with_missing,
)

APP = table("application_train")
PENDING_SHARE = 48744 / 356255

# Full-data frequencies of levels a 7.5k-row sample under- or mis-represents (FACTS §3).
INCOME_TYPES = {
    "Working": 158774, "Commercial associate": 71617, "Pensioner": 55362, "State servant": 21703,
    "Unemployed": 22, "Student": 18, "Businessman": 10, "Maternity leave": 5,
}
NOT_EMPLOYED = ["Pensioner", "Unemployed"]
TRAIN_ONLY_LEVELS = {
    "CODE_GENDER": ["XNA"], "NAME_FAMILY_STATUS": ["Unknown"],
    "NAME_INCOME_TYPE": ["Maternity leave", "Businessman", "Student", "Unemployed"],
}
BUILDING_MEASURES = [
    "APARTMENTS", "BASEMENTAREA", "YEARS_BEGINEXPLUATATION", "YEARS_BUILD", "COMMONAREA",
    "ELEVATORS", "ENTRANCES", "FLOORSMAX", "FLOORSMIN", "LANDAREA", "LIVINGAPARTMENTS",
    "LIVINGAREA", "NONLIVINGAPARTMENTS", "NONLIVINGAREA",
]
# (probability of 1) for FLAG_DOCUMENT_2..21, real-data rates
DOCUMENT_RATES = {
    2: 4e-5, 3: 0.71, 4: 8e-5, 5: 0.015, 6: 0.088, 7: 2e-4, 8: 0.081, 9: 0.0039, 10: 2e-5,
    11: 0.0039, 12: 1e-5, 13: 0.0035, 14: 0.0029, 15: 0.0012, 16: 0.0099, 17: 2.7e-4,
    18: 0.0081, 19: 6e-4, 20: 5e-4, 21: 3.4e-4,
}
# EXT_SOURCE_3 has few distinct values in the real data: a fixed grid of 815 values.
EXT3_GRID = np.sort(np.random.default_rng(20180517).beta(3.2, 2.9, 815).round(9))
REGION_POPULATION_GRID = np.sort(np.round(np.random.default_rng(2018).gamma(1.6, 0.0125, 81), 6))


@dataclass
class ClientBlock:
    """One block of clients: identity, latent risk and the facts other tables depend on."""

    ids: np.ndarray
    pending: np.ndarray
    z: np.ndarray
    age_years: np.ndarray
    employed: np.ndarray
    years_employed: np.ndarray  # nan when not employed
    income: np.ndarray
    credit: np.ndarray
    annuity: np.ndarray
    ext_sources: np.ndarray  # (n, 3), nan = missing
    columns: dict[str, object]

    @property
    def size(self) -> int:
        return len(self.ids)


def _cat(rng: np.random.Generator, n: int, column: str, extra: dict[str, float] | None = None,
         drop: tuple[str, ...] = ()) -> Cat:
    levels, weights = levels_with_weights(APP, column, extra, drop)
    return draw(rng, n, levels, weights)


def _ban_train_only_levels(cat: Cat, column: str, pending: np.ndarray, fallback: str) -> Cat:
    codes = cat.codes.copy()
    rare = np.isin(codes, [cat.levels.index(x) for x in TRAIN_ONLY_LEVELS[column]
                           if x in cat.levels])
    codes[rare & pending] = cat.levels.index(fallback)
    return Cat(codes, cat.levels)


def _income_type(rng: np.random.Generator, n: int, pending: np.ndarray) -> Cat:
    levels = list(INCOME_TYPES)
    w = np.array([INCOME_TYPES[k] for k in levels], dtype=float)
    return _ban_train_only_levels(draw(rng, n, levels, w / w.sum()), "NAME_INCOME_TYPE",
                                  pending, "Working")


def _ages(rng: np.random.Generator, pensioner: np.ndarray) -> np.ndarray:
    working = 20.6 + 43.0 * rng.beta(1.15, 1.45, len(pensioner))
    retired = rng.uniform(50.0, 69.0, len(pensioner))
    return np.where(pensioner, retired, working)


def _amounts(rng: np.random.Generator, n: int, revolving: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    income = np.exp(rng.normal(np.log(147150.0), 0.48, n))
    round_income = rng.random(n) < 0.85
    income = np.where(round_income, np.round(income / 2250.0) * 2250.0, money(income, 0.5))
    income = np.maximum(income, 25650.0)
    goods = np.clip(income * np.exp(rng.normal(np.log(3.4), 0.62, n)), 40500.0, 4050000.0)
    goods = np.round(goods / 4500.0) * 4500.0
    insurance = np.where(rng.random(n) < 0.4, 0.0, rng.uniform(0.02, 0.24, n))
    credit = money(goods * (1.0 + insurance), 0.5)
    term = rng.choice([12, 18, 24, 30, 36, 48, 60], size=n, p=[.16, .14, .24, .12, .2, .08, .06])
    rate = rng.uniform(0.12, 0.30, n) / 12.0
    annuity = credit * rate / (1.0 - (1.0 + rate) ** (-term))
    revolving_limit = np.round(income * rng.choice([0.5, 1.0, 1.5, 2.0], n) / 22500.0) * 22500.0
    credit = np.where(revolving, np.maximum(revolving_limit, 45000.0), credit)
    goods = np.where(revolving, credit, goods)
    annuity = np.where(revolving, credit * 0.05, annuity)
    return income, money(credit, 0.5), money(annuity, 0.5), goods


def _ext_sources(rng: np.random.Generator, z: np.ndarray, age_years: np.ndarray) -> np.ndarray:
    n = len(z)
    age_std = (age_years - 43.0) / 12.0
    x1 = 0.0 - 0.42 * z + 0.30 * age_std + 0.40 * rng.normal(size=n)
    x2 = 0.25 - 0.45 * z + 0.45 * rng.normal(size=n)
    x3 = 0.05 - 0.45 * z + 0.08 * age_std + 0.45 * rng.normal(size=n)
    e1 = with_missing(rng, np.clip(ndtr(x1), 0.0146, 0.9627), 0.5638)
    e2 = with_missing(rng, np.clip(ndtr(x2) * 0.86, 8.2e-8, 0.855), 0.0021)
    e3 = EXT3_GRID[np.clip(np.searchsorted(EXT3_GRID, ndtr(x3)), 0, len(EXT3_GRID) - 1)]
    e3 = with_missing(rng, e3, 0.1983)
    return np.column_stack([e1, e2, e3])


def _building(rng: np.random.Generator, n: int) -> dict[str, object]:
    """47 normalised building columns. One 'how much is known' draw per client makes the
    measures' missing patterns nested, and each measure's AVG/MODE/MEDI share one pattern."""
    known = rng.random(n)
    size = rng.beta(1.4, 8.0, n)
    cols: dict[str, object] = {}
    for m in BUILDING_MEASURES:
        rate = APP.column(f"{m}_AVG").missing_pct / 100.0
        present = known >= rate
        if m == "YEARS_BEGINEXPLUATATION":
            avg = np.clip(rng.normal(0.977, 0.04, n), 0.0, 1.0)
        elif m == "YEARS_BUILD":
            avg = rng.beta(12.0, 4.0, n)
        elif m in ("FLOORSMAX", "FLOORSMIN"):
            avg = np.clip(np.round(rng.gamma(3.0, 0.07, n) * 6) / 6, 0.0, 1.0)
        else:
            avg = np.clip(size * rng.lognormal(0.0, 0.35, n), 0.0, 1.0)
        avg = np.round(avg, 4)
        mode = np.clip(np.round(avg + rng.normal(0, 0.01, n), 4), 0.0, 1.0)
        medi = np.clip(np.round(avg + rng.normal(0, 0.005, n), 4), 0.0, 1.0)
        for suffix, values in (("AVG", avg), ("MODE", mode), ("MEDI", medi)):
            cols[f"{m}_{suffix}"] = np.where(present, values, np.nan)
    for column in ("FONDKAPREMONT_MODE", "HOUSETYPE_MODE", "WALLSMATERIAL_MODE",
                   "EMERGENCYSTATE_MODE"):
        rate = APP.column(column).missing_pct / 100.0
        cat = _cat(rng, n, column)
        cols[column] = Cat(np.where(known >= rate, cat.codes, -1), cat.levels)
    total_rate = APP.column("TOTALAREA_MODE").missing_pct / 100.0
    cols["TOTALAREA_MODE"] = np.where(known >= total_rate,
                                      np.clip(np.round(size * 1.1, 4), 0, 1), np.nan)
    return cols


def _social_circle(rng: np.random.Generator, z: np.ndarray) -> dict[str, np.ndarray]:
    n = len(z)
    obs30 = rng.negative_binomial(0.6, 0.27, n).astype(float)
    obs30[rng.random(n) < 2e-5] = 348.0  # the real file's famous outlier
    obs60 = np.where(rng.random(n) < 0.9, obs30, np.maximum(obs30 - 1, 0))
    p_def = np.clip(0.03 + 0.02 * z, 0.001, 0.5)
    def30 = rng.binomial(np.minimum(obs30, 30).astype(int), p_def).astype(float)
    def60 = np.maximum(def30 - (rng.random(n) < 0.2), 0)
    missing = rng.random(n) < 0.0033
    out = {"OBS_30_CNT_SOCIAL_CIRCLE": obs30, "DEF_30_CNT_SOCIAL_CIRCLE": def30,
           "OBS_60_CNT_SOCIAL_CIRCLE": obs60, "DEF_60_CNT_SOCIAL_CIRCLE": def60}
    return {k: np.where(missing, np.nan, v) for k, v in out.items()}


def _bureau_requests(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    missing = rng.random(n) < 0.135
    means = {"HOUR": 0.0064, "DAY": 0.007, "WEEK": 0.034, "MON": 0.27, "QRT": 0.27, "YEAR": 1.9}
    out = {}
    for period, mean in means.items():
        values = rng.poisson(mean * rng.gamma(1.0, 1.0, n)).astype(float)
        out[f"AMT_REQ_CREDIT_BUREAU_{period}"] = np.where(missing, np.nan, values)
    return out


def generate_clients(rng: np.random.Generator, ids: np.ndarray,
                     pending_share: float = PENDING_SHARE) -> ClientBlock:
    """`pending_share` of the clients are new applications (1.0 for a month's arrivals)."""
    n = len(ids)
    pending = rng.random(n) < pending_share
    z = rng.normal(size=n)
    income_type = _income_type(rng, n, pending)
    not_employed = income_type.isin(NOT_EMPLOYED)
    age = _ages(rng, income_type.is_("Pensioner"))
    years_employed = np.minimum(rng.exponential(6.5, n) * np.exp(-0.15 * z), age - 18.0)
    years_employed = np.where(not_employed, np.nan, np.maximum(years_employed, 0.0))
    contract = _cat(rng, n, "NAME_CONTRACT_TYPE")
    revolving = contract.is_("Revolving loans")
    income, credit, annuity, goods = _amounts(rng, n, revolving)
    if n >= 1000:  # the real file has one client declaring 117 million
        income[rng.integers(n)] = 117000000.0
    annuity[rng.random(n) < 12 / 307511] = np.nan
    goods[revolving & (rng.random(n) < 0.01)] = np.nan
    ext = _ext_sources(rng, z, age)

    gender = _ban_train_only_levels(_cat(rng, n, "CODE_GENDER", {"XNA": 4 / 307511}),
                                    "CODE_GENDER", pending, "F")
    family = _ban_train_only_levels(_cat(rng, n, "NAME_FAMILY_STATUS", {"Unknown": 2 / 307511}),
                                    "NAME_FAMILY_STATUS", pending, "Married")
    children = rng.choice(np.arange(6), size=n, p=[.70, .199, .087, .012, .0014, .0006])
    children[rng.random(n) < 2e-5] = rng.integers(6, 20)
    couple = family.isin(["Married", "Civil marriage"])
    fam_members = (children + 1 + couple).astype(float)
    fam_members[rng.random(n) < 2 / 307511] = np.nan
    own_car = _cat(rng, n, "FLAG_OWN_CAR")
    car_age = np.where(own_car.is_("Y"), np.minimum(rng.gamma(1.8, 6.0, n).round(), 65), np.nan)
    occupation = _cat(rng, n, "OCCUPATION_TYPE")
    occupation_missing = not_employed | (rng.random(n) < 0.16)
    organization = _cat(rng, n, "ORGANIZATION_TYPE", drop=("XNA",))
    xna = Cat(np.array([0], dtype=np.int32), ["XNA"])
    org_levels = organization.levels + xna.levels
    org_codes = np.where(not_employed, len(org_levels) - 1, organization.codes)

    days_birth = -np.round(age * 365.25).astype(np.int64)
    days_employed = np.where(not_employed, SENTINEL_DAYS,
                             -np.round(np.nan_to_num(years_employed) * 365.25)).astype(np.int64)
    adult_days = -days_birth - 18 * 365
    rating = rng.choice([1, 2, 3], size=n, p=[.105, .738, .157])
    rating_city = np.clip(rating + rng.choice([-1, 0, 1], size=n, p=[.03, .94, .03]), 1, 3)
    phone_change = -np.round(rng.exponential(960.0, n) * (rng.random(n) > 0.12)).clip(0, 4361)
    phone_change = np.where(rng.random(n) < 1 / 307511, np.nan, phone_change)

    columns: dict[str, object] = {
        "SK_ID_CURR": ids,
        "NAME_CONTRACT_TYPE": contract,
        "CODE_GENDER": gender,
        "FLAG_OWN_CAR": own_car,
        "FLAG_OWN_REALTY": _cat(rng, n, "FLAG_OWN_REALTY"),
        "CNT_CHILDREN": children,
        "AMT_INCOME_TOTAL": income,
        "AMT_CREDIT": credit,
        "AMT_ANNUITY": annuity,
        "AMT_GOODS_PRICE": goods,
        "NAME_TYPE_SUITE": Cat(np.where(rng.random(n) < 0.0042, -1,
                                        _cat(rng, n, "NAME_TYPE_SUITE").codes),
                               _cat(rng, 1, "NAME_TYPE_SUITE").levels),
        "NAME_INCOME_TYPE": income_type,
        "NAME_EDUCATION_TYPE": _cat(rng, n, "NAME_EDUCATION_TYPE"),
        "NAME_FAMILY_STATUS": family,
        "NAME_HOUSING_TYPE": _cat(rng, n, "NAME_HOUSING_TYPE"),
        "REGION_POPULATION_RELATIVE": rng.choice(REGION_POPULATION_GRID, n),
        "DAYS_BIRTH": days_birth,
        "DAYS_EMPLOYED": days_employed,
        "DAYS_REGISTRATION": -np.round(rng.uniform(0, 1, n) ** 0.8 * adult_days * 0.9),
        "DAYS_ID_PUBLISH": -np.round(rng.uniform(0, 1, n) ** 0.7 * np.minimum(adult_days, 7197)
                                     ).astype(np.int64),
        "OWN_CAR_AGE": car_age,
        "FLAG_MOBIL": np.where(rng.random(n) < 3e-6, 0, 1),
        "FLAG_EMP_PHONE": np.where(not_employed, 0, 1),
        "FLAG_WORK_PHONE": (rng.random(n) < 0.2).astype(int),
        "FLAG_CONT_MOBILE": (rng.random(n) < 0.998).astype(int),
        "FLAG_PHONE": (rng.random(n) < 0.28).astype(int),
        "FLAG_EMAIL": (rng.random(n) < 0.057).astype(int),
        "OCCUPATION_TYPE": Cat(np.where(occupation_missing, -1, occupation.codes),
                               occupation.levels),
        "CNT_FAM_MEMBERS": fam_members,
        "REGION_RATING_CLIENT": rating,
        "REGION_RATING_CLIENT_W_CITY": rating_city,
        "WEEKDAY_APPR_PROCESS_START": _cat(rng, n, "WEEKDAY_APPR_PROCESS_START"),
        "HOUR_APPR_PROCESS_START": np.clip(np.round(rng.normal(12.1, 3.3, n)), 0, 23),
        "REG_REGION_NOT_LIVE_REGION": (rng.random(n) < 0.015).astype(int),
        "REG_REGION_NOT_WORK_REGION": (rng.random(n) < 0.05).astype(int),
        "LIVE_REGION_NOT_WORK_REGION": (rng.random(n) < 0.04).astype(int),
        "REG_CITY_NOT_LIVE_CITY": (rng.random(n) < 0.078).astype(int),
        "REG_CITY_NOT_WORK_CITY": (rng.random(n) < 0.23).astype(int),
        "LIVE_CITY_NOT_WORK_CITY": (rng.random(n) < 0.18).astype(int),
        "ORGANIZATION_TYPE": Cat(org_codes.astype(np.int32), org_levels),
        "EXT_SOURCE_1": ext[:, 0],
        "EXT_SOURCE_2": ext[:, 1],
        "EXT_SOURCE_3": ext[:, 2],
        "DAYS_LAST_PHONE_CHANGE": phone_change,
    }
    columns.update(_building(rng, n))
    columns.update(_social_circle(rng, z))
    for k, rate in DOCUMENT_RATES.items():
        columns[f"FLAG_DOCUMENT_{k}"] = (rng.random(n) < rate).astype(int)
    columns.update(_bureau_requests(rng, n))
    return ClientBlock(ids=ids, pending=pending, z=z, age_years=age,
                       employed=~not_employed, years_employed=years_employed, income=income,
                       credit=credit, annuity=annuity, ext_sources=ext, columns=columns)
