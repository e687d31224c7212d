"""bureau and bureau_balance rows for a block of clients.

≈86 % of clients have loans at other institutions (≈5.6 each). Roughly 45 % of bureau loans
carry a monthly status history; about 5 % of the histories belong to loans that are missing from
bureau.csv, as in the real files (orphans). Overdue and active debt follow the client's latent
risk; the truth drivers are computed from the rows that are written.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.raw.schema import table
from warehouse.raw.synth.application import ClientBlock
from warehouse.raw.synth.common import (
    Cat,
    draw,
    levels_with_weights,
    money,
    per_parent_count,
    per_parent_max,
    per_parent_sum,
    position_in_group,
    repeat_index,
    sigmoid,
)

BUREAU = table("bureau")
HAS_BUREAU = 305811 / 356255
EXTRA_LOANS_MEAN = 5.61 - 1.0
HISTORY_SHARE = 0.45
ORPHAN_HISTORY_SHARE = 43041 / 817395
CREDIT_TYPE_EXTRA = {
    "Real estate loan": 27 / 1716428, "Loan for the purchase of equipment": 19 / 1716428,
    "Loan for purchase of shares (margin lending)": 4 / 1716428,
    "Mobile operator loan": 1 / 1716428, "Interbank credit": 1 / 1716428,
}
STATUS_LEVELS = ["C", "0", "X", "1", "2", "3", "4", "5"]


@dataclass
class BureauBlock:
    bureau: dict[str, object]
    balance: dict[str, object]
    next_id: int
    drivers: dict[str, np.ndarray]


def _loan_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    has = rng.random(n) < HAS_BUREAU
    extra = rng.negative_binomial(1.3, 1.3 / (1.3 + EXTRA_LOANS_MEAN), n)
    return np.where(has, 1 + extra, 0)


def _end_dates(rng: np.random.Generator, days_credit: np.ndarray, active: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Planned end (future for most active loans) and actual end (closed loans only)."""
    m = len(days_credit)
    duration = np.exp(rng.normal(np.log(700), 0.8, m))
    planned_end = np.round(days_credit + duration)
    fact_end = np.clip(np.round(days_credit + duration * rng.uniform(0.5, 1.05, m)),
                       days_credit, 0).astype(float)
    return planned_end, np.where(active, np.nan, fact_end)


def _statuses(rng: np.random.Generator, m: int, days_credit: np.ndarray, risk: np.ndarray
              ) -> Cat:
    levels, weights = levels_with_weights(BUREAU, "CREDIT_ACTIVE", {"Bad debt": 21 / 1716428})
    p_active = np.clip(sigmoid((days_credit + 900) / 260.0) * 0.95 + 0.05 * sigmoid(risk), 0, 1)
    active = rng.random(m) < p_active
    special = rng.random(m)
    codes = np.where(active, levels.index("Active"), levels.index("Closed"))
    codes = np.where(special < weights[levels.index("Sold")], levels.index("Sold"), codes)
    codes = np.where(special < weights[levels.index("Bad debt")], levels.index("Bad debt"), codes)
    return Cat(codes.astype(np.int32), levels)


def _amounts(rng: np.random.Generator, m: int, credit_type: Cat, active: np.ndarray,
             overdue_days: np.ndarray) -> dict[str, np.ndarray]:
    card = credit_type.is_("Credit card")
    big = credit_type.isin(["Mortgage", "Car loan", "Real estate loan"])
    credit_sum = np.exp(rng.normal(np.log(110000), 1.0, m)) * np.where(big, 6.0, 1.0)
    credit_sum = np.where(card, np.round(credit_sum / 22500) * 22500, money(credit_sum, 0.005))
    credit_sum[rng.random(m) < 0.03] = 0.0
    remaining = np.where(active, rng.beta(2.0, 1.6, m), 0.0)
    debt = money(credit_sum * remaining, 0.005)
    negative = rng.random(m) < 0.003  # the real files have a few negative debts and limits
    debt = np.where(negative, -money(rng.exponential(3000.0, m), 0.005), debt)
    debt = np.where(rng.random(m) < 0.15, np.nan, debt)
    limit = np.where(card & active, money(credit_sum - np.nan_to_num(debt), 0.005), 0.0)
    limit = np.where(rng.random(m) < 0.001, -money(rng.exponential(2000.0, m), 0.005), limit)
    limit = np.where(rng.random(m) < 0.345, np.nan, limit)
    overdue = overdue_days > 0
    sum_overdue = np.where(overdue, money(np.nan_to_num(debt, nan=credit_sum * 0.3)
                                          * rng.beta(1.2, 6.0, m), 0.005), 0.0)
    max_overdue = np.where(overdue | (rng.random(m) < 0.12),
                           money(rng.exponential(9000.0, m), 0.005), 0.0)
    max_overdue = np.where(overdue, np.maximum(max_overdue, sum_overdue), max_overdue)
    max_overdue = np.where(overdue | (rng.random(m) < 0.34), max_overdue, np.nan)
    annuity = np.where(rng.random(m) < 0.285, money(credit_sum / rng.uniform(6, 60, m), 0.005),
                       np.nan)
    return {"AMT_CREDIT_SUM": credit_sum, "AMT_CREDIT_SUM_DEBT": debt,
            "AMT_CREDIT_SUM_LIMIT": limit, "AMT_CREDIT_SUM_OVERDUE": sum_overdue,
            "AMT_CREDIT_MAX_OVERDUE": max_overdue, "AMT_ANNUITY": annuity}


def _history(rng: np.random.Generator, ids: np.ndarray, days_credit: np.ndarray,
             fact_end: np.ndarray, risk: np.ndarray) -> dict[str, object]:
    """Monthly statuses, newest month (0) first, 'C' after closure, DPD buckets by risk."""
    open_month = np.maximum(np.floor(days_credit / 30.44), -96).astype(np.int64)
    months = (-open_month + 1) * rng.uniform(0.55, 1.0, len(ids))
    months = np.maximum(months.astype(np.int64), 1)
    loan = repeat_index(months)
    month = -position_in_group(months)
    close_month = np.floor(fact_end / 30.44)
    closed = month > np.nan_to_num(close_month, nan=1.0)[loan]
    unknown = rng.random(len(loan)) < rng.beta(0.6, 2.2, len(ids))[loan]
    late = rng.random(len(loan)) < sigmoid(-5.3 + 1.3 * risk)[loan]
    severity = np.minimum(rng.geometric(0.72, len(loan)), 5)
    codes = np.full(len(loan), STATUS_LEVELS.index("0"), dtype=np.int32)
    codes = np.where(late, STATUS_LEVELS.index("1") + severity - 1, codes)
    codes = np.where(closed, STATUS_LEVELS.index("C"), codes)
    codes = np.where(unknown, STATUS_LEVELS.index("X"), codes)
    return {"SK_ID_BUREAU": ids[loan], "MONTHS_BALANCE": month,
            "STATUS": Cat(codes.astype(np.int32), STATUS_LEVELS)}


def generate_bureau(rng: np.random.Generator, clients: ClientBlock, first_id: int
                    ) -> BureauBlock:
    n = clients.size
    counts = _loan_counts(rng, n)
    order = rng.permutation(n)  # bureau.csv is grouped by client but not sorted
    counts_in_order = counts[order]
    parent = order[repeat_index(counts_in_order)]
    m = len(parent)
    risk = clients.z[parent]
    ids = first_id + rng.permutation(m).astype(np.int64) * 2  # odd gaps are free for orphans
    days_credit = -np.floor(2922 * rng.random(m) ** 1.25).astype(np.int64)
    status = _statuses(rng, m, days_credit, risk)
    active = status.is_("Active")
    planned_end, fact_end = _end_dates(rng, days_credit, active)
    planned_end[rng.random(m) < 1e-4] = -rng.integers(30000, 42000)
    planned_end = np.where(rng.random(m) < 0.0615, np.nan, planned_end)
    overdue_p = np.where(active, sigmoid(-4.6 + 1.25 * risk), 0.0)
    overdue_days = np.where(rng.random(m) < overdue_p,
                            np.minimum(np.ceil(rng.lognormal(2.8, 1.3, m)), 2792), 0
                            ).astype(np.int64)
    types_levels, types_w = levels_with_weights(BUREAU, "CREDIT_TYPE", CREDIT_TYPE_EXTRA)
    credit_type = draw(rng, m, types_levels, types_w)
    amounts = _amounts(rng, m, credit_type, active, overdue_days)
    update = np.where(active, -np.floor(rng.exponential(25.0, m)),
                      np.nan_to_num(fact_end) + np.floor(rng.exponential(40.0, m)))
    update = np.clip(update, days_credit, 0)
    update[rng.random(m) < 1e-4] = -rng.integers(30000, 41900)
    cur_levels, cur_w = levels_with_weights(BUREAU, "CREDIT_CURRENCY",
                                            {"currency 4": 10 / 1716428})
    bureau = {
        "SK_ID_CURR": clients.ids[parent],
        "SK_ID_BUREAU": ids,
        "CREDIT_ACTIVE": status,
        "CREDIT_CURRENCY": draw(rng, m, cur_levels, cur_w),
        "DAYS_CREDIT": days_credit,
        "CREDIT_DAY_OVERDUE": overdue_days,
        "DAYS_CREDIT_ENDDATE": planned_end,
        "DAYS_ENDDATE_FACT": fact_end,
        "CNT_CREDIT_PROLONG": np.where(rng.random(m) < 0.005, rng.integers(1, 10, m), 0),
        "CREDIT_TYPE": credit_type,
        "DAYS_CREDIT_UPDATE": update.astype(np.int64),
        **amounts,
    }
    with_history = rng.random(m) < HISTORY_SHARE / (1 - ORPHAN_HISTORY_SHARE * HISTORY_SHARE)
    orphan = with_history & (rng.random(m) < ORPHAN_HISTORY_SHARE)
    balance = _history(rng, ids[with_history], days_credit[with_history],
                       fact_end[with_history], risk[with_history])
    # Orphans: histories kept for loans whose bureau row is dropped, under an odd id that no
    # bureau row uses (bureau ids are even offsets from first_id).
    balance["SK_ID_BUREAU"] = np.where(np.isin(balance["SK_ID_BUREAU"], ids[orphan]),
                                       balance["SK_ID_BUREAU"] + 1, balance["SK_ID_BUREAU"])
    keep = ~orphan
    bureau = {k: (Cat(v.codes[keep], v.levels) if isinstance(v, Cat) else np.asarray(v)[keep])
              for k, v in bureau.items()}
    return BureauBlock(bureau=bureau, balance=balance, next_id=first_id + 2 * m + 2,
                       drivers=_drivers(parent[keep], bureau, n, clients.income))


def _drivers(parent: np.ndarray, bureau: dict[str, object], n: int, income: np.ndarray
             ) -> dict[str, np.ndarray]:
    active = bureau["CREDIT_ACTIVE"].is_("Active")
    overdue = (bureau["CREDIT_DAY_OVERDUE"] > 0) | (bureau["AMT_CREDIT_SUM_OVERDUE"] > 0)
    debt = np.nan_to_num(bureau["AMT_CREDIT_SUM_DEBT"]) * active
    loans = per_parent_count(parent, n)
    return {
        "bureau_loans": loans,
        "bureau_overdue_loans": per_parent_sum(parent, overdue.astype(float), n),
        "bureau_max_days_overdue": per_parent_max(parent, bureau["CREDIT_DAY_OVERDUE"], n),
        "bureau_active_debt_to_income": per_parent_sum(parent, debt, n) / income,
    }
