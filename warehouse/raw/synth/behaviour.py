"""The three behaviour tables that hang off approved previous loans, for a block of clients:
monthly POS_CASH_balance snapshots and installments_payments of cash and consumer loans, and
credit_card_balance months (with version-0 instalments) of revolving loans. Late payments, DPD
and card utilisation follow the client's latent risk (`late_propensity`).
"""
from __future__ import annotations

import numpy as np

from warehouse.raw.synth.application import ClientBlock
from warehouse.raw.synth.common import Cat, money, position_in_group, repeat_index, sigmoid

MONTH = 30.44


def late_propensity(rng: np.random.Generator, clients: ClientBlock) -> np.ndarray:
    return sigmoid(-3.0 + 1.15 * clients.z + 0.35 * rng.normal(size=clients.size))


def pos_months(rng: np.random.Generator, loans: dict[str, np.ndarray], sel: np.ndarray,
                late: np.ndarray, ids: np.ndarray, clients: ClientBlock) -> dict[str, object]:
    start = np.maximum(np.floor(loans["decision"][sel] / MONTH), -96).astype(np.int64)
    term = np.maximum(loans["term"][sel], 1).astype(np.int64)
    months = np.maximum(np.minimum(term + 1, -start), 1)
    skipped = np.floor(months * rng.uniform(0.1, 0.6, len(months))).astype(np.int64)
    months = months - skipped  # POS reporting often starts some months into the loan
    loan = repeat_index(months)
    k = position_in_group(months) + skipped[loan]
    month = (start[loan] + k).astype(np.int64)
    ok = month <= -1
    loan, k, month = loan[ok], k[ok], month[ok]
    n_rows = len(loan)
    future = np.maximum(term[loan] - k, 0).astype(float)
    status = np.where(future == 0, 1, 0)
    status = np.where(rng.random(n_rows) < 0.01, 2, status)
    rare = rng.random(n_rows)
    status = np.where(rare < 0.0015, rng.choice([3, 4, 5, 6, 7, 8], n_rows), status)
    client = loans["parent"][sel][loan]
    dpd = np.where(rng.random(n_rows) < late[client] * 0.25,
                   np.ceil(rng.lognormal(1.8, 1.4, n_rows)), 0).astype(np.int64)
    dpd = np.minimum(dpd, 3000)
    dpd_def = np.where(rng.random(n_rows) < 0.4, dpd, 0)
    instalments = term[loan].astype(float)
    gap = rng.random(n_rows) < 0.0026
    return {
        "SK_ID_PREV": ids[loan], "SK_ID_CURR": clients.ids[client], "MONTHS_BALANCE": month,
        "CNT_INSTALMENT": np.where(gap, np.nan, instalments),
        "CNT_INSTALMENT_FUTURE": np.where(gap, np.nan, future),
        "NAME_CONTRACT_STATUS": Cat(status.astype(np.int32),
                                    ["Active", "Completed", "Signed", "Demand",
                                     "Returned to the store", "Approved", "Amortized debt",
                                     "Canceled", "XNA"]),
        "SK_DPD": dpd, "SK_DPD_DEF": dpd_def,
    }


def instalments_of_loans(rng: np.random.Generator, loans: dict[str, np.ndarray], sel: np.ndarray,
                 late: np.ndarray, ids: np.ndarray, clients: ClientBlock) -> dict[str, np.ndarray]:
    """Due dates every month from the first due date; payments near the due day, late for
    risky clients; some instalments paid in two rows (repeated instalment numbers)."""
    first_due = loans["first_due"][sel]
    term = np.maximum(loans["term"][sel], 1).astype(np.int64)
    due_so_far = np.floor((np.minimum(loans["last_due"][sel], -1) - first_due) / MONTH
                          ).astype(np.int64) + 1
    window = np.floor((first_due + 2922) / MONTH).astype(np.int64)  # 8-year window
    count = np.clip(np.minimum(term, due_so_far), 0, None)
    # the oldest instalments fall outside the 8-year window or were never reported
    reported_late = np.floor(count * rng.uniform(0.0, 0.45, len(count))).astype(np.int64)
    skip = np.maximum(np.clip(-window, 0, None), reported_late)
    count = np.maximum(count - skip, 0)
    loan = repeat_index(count)
    number = position_in_group(count) + 1 + skip[loan]
    days_instalment = np.round(first_due[loan] + MONTH * (number - 1)).astype(float)
    client = loans["parent"][sel][loan]
    n_rows = len(loan)
    is_late = rng.random(n_rows) < late[client]
    delay = np.where(is_late, np.ceil(rng.lognormal(1.9, 1.2, n_rows)),
                     -np.floor(rng.exponential(9.0, n_rows)))
    entry = np.minimum(days_instalment + delay, -1.0)
    amount = loans["annuity"][sel][loan]
    split = rng.random(n_rows) < 0.06 + 0.15 * late[client]
    share = np.where(split, rng.uniform(0.2, 0.9, n_rows), 1.0)
    version = np.where(rng.random(len(count)) < 0.12, 2, 1)[loan].astype(float)
    first = {"SK_ID_PREV": ids[loan], "SK_ID_CURR": clients.ids[client],
             "NUM_INSTALMENT_VERSION": version, "NUM_INSTALMENT_NUMBER": number,
             "DAYS_INSTALMENT": days_instalment, "DAYS_ENTRY_PAYMENT": entry,
             "AMT_INSTALMENT": amount, "AMT_PAYMENT": money(amount * share, 0.005)}
    rest = {k: v[split] for k, v in first.items()}
    rest["DAYS_ENTRY_PAYMENT"] = np.minimum(rest["DAYS_ENTRY_PAYMENT"]
                                            + np.ceil(rng.exponential(12.0, int(split.sum()))), -1)
    rest["AMT_PAYMENT"] = money(amount[split] - first["AMT_PAYMENT"][split], 0.005)
    return {k: np.concatenate([first[k], rest[k]]) for k in first}


def card_months(rng: np.random.Generator, loans: dict[str, np.ndarray], sel: np.ndarray,
                 ids: np.ndarray, clients: ClientBlock, utilisation: np.ndarray
                 ) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    start = np.maximum(np.floor(loans["decision"][sel] / MONTH), -96).astype(np.int64)
    months = np.maximum(np.floor((-start - 1) * rng.uniform(0.7, 1.0, len(start))), 1
                        ).astype(np.int64)
    loan = repeat_index(months)
    month = (-months[loan] + position_in_group(months)).astype(np.int64)
    n_rows = len(loan)
    client = loans["parent"][sel][loan]
    limit = np.round(loans["credit"][sel][loan] / 22500) * 22500
    limit = np.where(rng.random(n_rows) < 0.05, 0, limit)
    util = np.clip(utilisation[client] + rng.normal(0, 0.08, n_rows), 0, 1.15)
    balance = money(limit * util, 0.005)
    balance = np.where(rng.random(n_rows) < 0.004, -money(rng.exponential(800, n_rows), 0.005),
                       balance)
    drawings = money(np.where(rng.random(n_rows) < 0.35, limit * rng.beta(1, 6, n_rows), 0), 0.005)
    atm_share = rng.beta(1.2, 1.5, n_rows)
    atm = money(drawings * atm_share, 0.005)
    other = money(np.where(rng.random(n_rows) < 0.01, drawings * 0.1, 0), 0.005)
    pos = money(drawings - atm - other, 0.005)
    cnt_atm = np.where(atm > 0, rng.integers(1, 5, n_rows), 0).astype(float)
    cnt_pos = np.where(pos > 0, rng.integers(1, 12, n_rows), 0).astype(float)
    cnt_other = (other > 0).astype(float)
    no_split = rng.random(n_rows) < 0.195  # the drawing breakdown is empty together
    min_regularity = money(np.maximum(balance, 0) * 0.05, 0.005)
    no_regularity = rng.random(n_rows) < 0.0795
    paid = rng.random(n_rows) < 0.93
    payment = money(np.where(paid, np.maximum(min_regularity, drawings * rng.uniform(0.5, 1.2,
                                                                                   n_rows)), 0),
                    0.005)
    receivable = money(balance * rng.uniform(0.98, 1.0, n_rows), 0.005)
    status = np.where(rng.random(n_rows) < 0.035, 1, 0)
    status = np.where(rng.random(n_rows) < 0.004, rng.choice([2, 3, 4, 5, 6], n_rows), status)
    late_card = rng.random(n_rows) < np.clip(utilisation[client] - 0.6, 0, 1) * 0.1
    dpd = np.where(late_card, np.ceil(rng.lognormal(1.5, 1.2, n_rows)), 0).astype(np.int64)
    card = {
        "SK_ID_PREV": ids[loan], "SK_ID_CURR": clients.ids[client], "MONTHS_BALANCE": month,
        "AMT_BALANCE": balance, "AMT_CREDIT_LIMIT_ACTUAL": limit.astype(np.int64),
        "AMT_DRAWINGS_ATM_CURRENT": np.where(no_split, np.nan, atm),
        "AMT_DRAWINGS_CURRENT": drawings,
        "AMT_DRAWINGS_OTHER_CURRENT": np.where(no_split, np.nan, other),
        "AMT_DRAWINGS_POS_CURRENT": np.where(no_split, np.nan, pos),
        "AMT_INST_MIN_REGULARITY": np.where(no_regularity, np.nan, min_regularity),
        "AMT_PAYMENT_CURRENT": np.where(paid & (rng.random(n_rows) > 0.001), payment, np.nan),
        "AMT_PAYMENT_TOTAL_CURRENT": payment,
        "AMT_RECEIVABLE_PRINCIPAL": money(receivable * 0.96, 0.005),
        "AMT_RECIVABLE": receivable, "AMT_TOTAL_RECEIVABLE": receivable,
        "CNT_DRAWINGS_ATM_CURRENT": np.where(no_split, np.nan, cnt_atm),
        "CNT_DRAWINGS_CURRENT": (cnt_atm + cnt_pos + cnt_other).astype(np.int64),
        "CNT_DRAWINGS_OTHER_CURRENT": np.where(no_split, np.nan, cnt_other),
        "CNT_DRAWINGS_POS_CURRENT": np.where(no_split, np.nan, cnt_pos),
        "CNT_INSTALMENT_MATURE_CUM": np.where(no_regularity, np.nan,
                                              np.minimum(position_in_group(months), 120)
                                              .astype(float)),
        "NAME_CONTRACT_STATUS": Cat(status.astype(np.int32),
                                    ["Active", "Completed", "Signed", "Demand", "Sent proposal",
                                     "Refused", "Approved"]),
        "SK_DPD": dpd, "SK_DPD_DEF": np.where(rng.random(n_rows) < 0.5, dpd, 0),
    }
    # Card repayments appear in installments_payments as version-0 instalments.
    pay_rows = np.flatnonzero(paid & (payment > 0))
    due = np.round(month[pay_rows] * MONTH + rng.integers(0, 25, len(pay_rows))).astype(float)
    due = np.minimum(due, -1)
    instalments = {
        "SK_ID_PREV": card["SK_ID_PREV"][pay_rows], "SK_ID_CURR": card["SK_ID_CURR"][pay_rows],
        "NUM_INSTALMENT_VERSION": np.zeros(len(pay_rows)),
        "NUM_INSTALMENT_NUMBER": position_in_group(months)[pay_rows] + 1,
        "DAYS_INSTALMENT": due,
        "DAYS_ENTRY_PAYMENT": np.minimum(due - np.floor(rng.exponential(5.0, len(pay_rows))), -1),
        "AMT_INSTALMENT": min_regularity[pay_rows], "AMT_PAYMENT": payment[pay_rows],
    }
    return card, instalments
