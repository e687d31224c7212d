"""previous_application for a block of clients, and the behaviour tables that hang off it
(POS_CASH_balance, installments_payments, credit_card_balance: `behaviour`).

Approved cash and consumer loans get monthly POS snapshots and instalments; approved revolving
loans get card months and version-0 instalments. A few percent of loans keep their behaviour rows
while their previous_application row is dropped (the real files' orphans). Refusals follow the
client's latent risk.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.raw.schema import table
from warehouse.raw.synth.application import ClientBlock
from warehouse.raw.synth.behaviour import (
    MONTH,
    card_months,
    instalments_of_loans,
    late_propensity,
    pos_months,
)
from warehouse.raw.synth.common import (
    SENTINEL_DAYS,
    Cat,
    draw,
    draw_level_subset,
    levels_with_weights,
    money,
    per_parent_count,
    per_parent_sum,
    repeat_index,
    sigmoid,
)

PREV = table("previous_application")
HAS_PREVIOUS = 338857 / 356255
EXTRA_APPLICATIONS_MEAN = 5.15 - 1.0
ORPHAN_SHARE = {"loan": 0.04, "card": 0.10}
YIELD_RATE = {"low_action": 0.10, "low_normal": 0.16, "middle": 0.26, "high": 0.40}


@dataclass
class PreviousBlock:
    previous: dict[str, object]
    pos: dict[str, object]
    installments: dict[str, object]
    card: dict[str, object]
    next_id: int
    drivers: dict[str, np.ndarray]


def _cat(rng: np.random.Generator, n: int, column: str, tbl=PREV, **kw) -> Cat:
    levels, weights = levels_with_weights(tbl, column, **kw)
    return draw(rng, n, levels, weights)


def _subset(rng: np.random.Generator, column: str, allowed: list[str], n: int) -> Cat:
    levels, weights = levels_with_weights(PREV, column)
    return Cat(draw_level_subset(rng, n, levels, weights, allowed), levels)


def _choose(mask_by_value: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int32)
    for mask, codes in mask_by_value:
        out = np.where(mask, codes, out)
    return out


def _annuity(credit: np.ndarray, annual_rate: np.ndarray, term: np.ndarray) -> np.ndarray:
    r = annual_rate / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return credit * r / (1.0 - (1.0 + r) ** (-term))


def _applications(rng: np.random.Generator, clients: ClientBlock, first_id: int
                  ) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    n = clients.size
    counts = np.where(rng.random(n) < HAS_PREVIOUS,
                      1 + rng.negative_binomial(1.1, 1.1 / (1.1 + EXTRA_APPLICATIONS_MEAN), n), 0)
    parent = repeat_index(counts)
    m = len(parent)
    risk = clients.z[parent]
    contract = _cat(rng, m, "NAME_CONTRACT_TYPE", extra={"XNA": 346 / 1670214}, drop=("XNA",))
    cash, consumer = contract.is_("Cash loans"), contract.is_("Consumer loans")
    revolving, xna = contract.is_("Revolving loans"), contract.is_("XNA")
    refused = rng.random(m) < sigmoid(-1.75 + 0.75 * risk)
    u = rng.random(m)
    canceled = ~refused & (u < np.select([cash, revolving], [0.36, 0.38], 0.17))
    unused = ~refused & ~canceled & consumer & (u > 0.975)
    approved = ~refused & ~canceled & ~unused & ~xna
    canceled |= xna & ~refused
    status_levels = ["Approved", "Canceled", "Refused", "Unused offer"]
    status = Cat(_choose([(approved, 0), (canceled, 1), (refused, 2), (unused, 3)], m),
                 status_levels)

    decision = -np.maximum(np.floor(2922 * rng.random(m) ** 1.15), 1).astype(np.int64)
    application = np.where(consumer, np.exp(rng.normal(np.log(60000), 0.9, m)),
                           np.exp(rng.normal(np.log(225000), 0.8, m)))
    application = np.where(revolving, rng.choice([45000, 67500, 90000, 135000, 180000, 225000,
                                                  270000, 450000], m), application)
    application = np.round(application / 4.5) * 4.5
    application = np.where((canceled & (rng.random(m) < 0.7)) | xna, 0.0, application)
    term = np.where(consumer, rng.choice([6, 8, 10, 12, 18, 24], m, p=[.2, .1, .2, .25, .15, .1]),
                    rng.choice([12, 18, 24, 30, 36, 48, 60], m, p=[.38, .15, .2, .05, .14, .05, .03]))
    term = np.where(revolving, 0, term).astype(float)
    down = np.where(consumer, np.where(rng.random(m) < 0.5, 0.0,
                                       money(application * rng.beta(1.2, 8, m), 0.005)), np.nan)
    insurance = np.where(cash & (rng.random(m) < 0.5), rng.uniform(0.03, 0.2, m), 0.0)
    credit = money(np.where(consumer, application - np.nan_to_num(down), application)
                   * (1 + insurance) * np.where(approved, rng.choice([1.0, 0.9, 1.1], m,
                                                                     p=[.8, .1, .1]), 1.0), 0.005)
    goods = np.where(revolving | (application == 0), np.nan, application)
    yield_levels = ["XNA", "middle", "high", "low_normal", "low_action"]
    has_terms = ~canceled & ~revolving & ~xna & ~(refused & (rng.random(m) < 0.2))
    yield_codes = np.where(has_terms, rng.choice([1, 2, 3, 4], m, p=[.33, .3, .29, .08]), 0)
    rates = np.array([0.0] + [YIELD_RATE[y] for y in yield_levels[1:]])[yield_codes]
    annuity = np.where(has_terms, money(_annuity(credit, rates, term), 0.005), np.nan)
    annuity = np.where(revolving & ~canceled, money(credit * 0.05, 0.005), annuity)
    cnt_payment = np.where(has_terms | (revolving & ~canceled), term, np.nan)

    first_due = decision + np.where(consumer, 30, rng.integers(20, 45, m))
    last_due_1st = first_due + MONTH * np.maximum(np.nan_to_num(term) - 1, 0)
    repaid_early = rng.random(m) < 0.25
    last_due = np.where(repaid_early, np.maximum(first_due, last_due_1st - rng.integers(0, 300, m)),
                        last_due_1st)
    running = last_due >= 0
    days = {
        "DAYS_FIRST_DRAWING": np.where(rng.random(m) < 0.07, decision + rng.integers(1, 10, m),
                                       SENTINEL_DAYS),
        "DAYS_FIRST_DUE": np.where(revolving, SENTINEL_DAYS, first_due),
        "DAYS_LAST_DUE_1ST_VERSION": np.where(revolving, SENTINEL_DAYS, np.round(last_due_1st)),
        "DAYS_LAST_DUE": np.where(running | revolving, SENTINEL_DAYS, np.round(last_due)),
        "DAYS_TERMINATION": np.where(running | revolving, SENTINEL_DAYS,
                                     np.round(last_due) + rng.integers(0, 12, m)),
        "NFLAG_INSURED_ON_APPROVAL": (insurance > 0).astype(float),
    }
    terms_known = approved & (rng.random(m) > 0.035)
    days = {k: np.where(terms_known, v, np.nan).astype(float) for k, v in days.items()}

    goods_category = _subset(rng, "NAME_GOODS_CATEGORY",
                             [x for x in PREV.column("NAME_GOODS_CATEGORY").levels if x != "XNA"], m)
    goods_codes = np.where(consumer, goods_category.codes,
                           goods_category.levels.index("XNA"))
    industry = _subset(rng, "NAME_SELLER_INDUSTRY",
                       [x for x in PREV.column("NAME_SELLER_INDUSTRY").levels if x != "XNA"], m)
    industry_codes = np.where(consumer, industry.codes, industry.levels.index("XNA"))
    purpose = _subset(rng, "NAME_CASH_LOAN_PURPOSE",
                      [x for x in PREV.column("NAME_CASH_LOAN_PURPOSE").levels if x != "XAP"], m)
    purpose_codes = np.where(cash, purpose.codes, purpose.levels.index("XAP"))
    portfolio_levels = ["POS", "Cash", "XNA", "Cards", "Cars"]
    portfolio = np.select([consumer, cash & ~canceled, revolving & ~canceled],
                          [0, 1, 3], 2).astype(np.int32)
    portfolio = np.where(consumer & (rng.random(m) < 2e-4), 4, portfolio)
    product_type = np.where(cash & ~canceled, np.where(rng.random(m) < 0.7, 1, 2), 0)
    channel_consumer = _subset(rng, "CHANNEL_TYPE", ["Country-wide", "Stone", "Regional / Local",
                                                     "Car dealer"], m)
    channel_cash = _subset(rng, "CHANNEL_TYPE", ["Credit and cash offices", "AP+ (Cash loan)",
                                                 "Contact center", "Channel of corporate sales"], m)
    reject_levels = ["XAP", "HC", "LIMIT", "SCO", "CLIENT", "SCOFR", "XNA", "VERIF", "SYSTEM"]
    reject = np.where(refused, rng.choice([1, 2, 3, 5, 6, 7, 8], m,
                                          p=[.6, .19, .13, .045, .018, .0165, .0005]), 0)
    reject = np.where(unused, 4, reject)
    combination = _product_combination(rng, cash, consumer, revolving, yield_codes,
                                       product_type, m)
    seller_area = np.where(consumer, np.round(rng.lognormal(3.5, 1.5, m)), -1)
    seller_area = np.where(rng.random(m) < 1e-5, 4000000, seller_area).astype(np.int64)
    rate_primary = np.where(rng.random(m) < 0.0036, rng.uniform(0.034, 1.0, m), np.nan)
    suite = _cat(rng, m, "NAME_TYPE_SUITE")
    previous = {
        "SK_ID_PREV": first_id + rng.permutation(m).astype(np.int64),
        "SK_ID_CURR": clients.ids[parent],
        "NAME_CONTRACT_TYPE": contract,
        "AMT_ANNUITY": annuity,
        "AMT_APPLICATION": application,
        "AMT_CREDIT": credit,
        "AMT_DOWN_PAYMENT": down,
        "AMT_GOODS_PRICE": goods,
        "WEEKDAY_APPR_PROCESS_START": _cat(rng, m, "WEEKDAY_APPR_PROCESS_START"),
        "HOUR_APPR_PROCESS_START": np.clip(np.round(rng.normal(12.5, 3.3, m)), 0, 23),
        "FLAG_LAST_APPL_PER_CONTRACT": Cat((rng.random(m) < 0.005).astype(np.int32), ["Y", "N"]),
        "NFLAG_LAST_APPL_IN_DAY": (rng.random(m) > 0.0035).astype(int),
        "RATE_DOWN_PAYMENT": np.where(np.isnan(down), np.nan,
                                      np.nan_to_num(down) / np.maximum(application, 1.0)),
        "RATE_INTEREST_PRIMARY": rate_primary,
        "RATE_INTEREST_PRIVILEGED": np.where(np.isnan(rate_primary), np.nan,
                                             rng.choice([0.8351, 0.8673, 0.6372], m)),
        "NAME_CASH_LOAN_PURPOSE": Cat(purpose_codes.astype(np.int32), purpose.levels),
        "NAME_CONTRACT_STATUS": status,
        "DAYS_DECISION": decision,
        "NAME_PAYMENT_TYPE": Cat(np.where(canceled | xna, 1, np.where(rng.random(m) < 0.015, 2, 0)
                                          ).astype(np.int32),
                                 ["Cash through the bank", "XNA", "Non-cash from your account",
                                  "Cashless from the account of the employer"]),
        "CODE_REJECT_REASON": Cat(reject.astype(np.int32), reject_levels),
        "NAME_TYPE_SUITE": Cat(np.where(rng.random(m) < 0.4912, -1, suite.codes), suite.levels),
        "NAME_CLIENT_TYPE": _cat(rng, m, "NAME_CLIENT_TYPE"),
        "NAME_GOODS_CATEGORY": Cat(goods_codes.astype(np.int32), goods_category.levels),
        "NAME_PORTFOLIO": Cat(portfolio, portfolio_levels),
        "NAME_PRODUCT_TYPE": Cat(product_type.astype(np.int32), ["XNA", "x-sell", "walk-in"]),
        "CHANNEL_TYPE": Cat(np.where(consumer, channel_consumer.codes, channel_cash.codes
                                     ).astype(np.int32), channel_cash.levels),
        "SELLERPLACE_AREA": seller_area,
        "NAME_SELLER_INDUSTRY": Cat(industry_codes.astype(np.int32), industry.levels),
        "CNT_PAYMENT": cnt_payment,
        "NAME_YIELD_GROUP": Cat(yield_codes.astype(np.int32), yield_levels),
        "PRODUCT_COMBINATION": Cat(np.where(rng.random(m) < 0.0002, -1, combination.codes
                                            ).astype(np.int32), combination.levels),
        **days,
    }
    loans = {"parent": parent, "approved": approved, "revolving": revolving,
             "decision": decision, "first_due": first_due, "term": np.nan_to_num(term),
             "annuity": np.nan_to_num(annuity), "credit": credit, "last_due": last_due}
    return previous, loans


def _product_combination(rng: np.random.Generator, cash: np.ndarray, consumer: np.ndarray,
                         revolving: np.ndarray, yield_codes: np.ndarray, product_type: np.ndarray,
                         m: int) -> Cat:
    levels = list(PREV.column("PRODUCT_COMBINATION").levels)
    level = np.array(levels, dtype=object)
    grade = np.array(["", "middle", "high", "low", "low"])[yield_codes]
    pos_kind = rng.choice(["household", "mobile", "industry", "other"], m, p=[.45, .35, .15, .05])
    with_interest = yield_codes > 0
    pos = np.char.add(np.char.add("POS ", pos_kind),
                      np.where(with_interest, " with interest", " without interest"))
    pos = np.where(pos == "POS other without interest", "POS others without interest", pos)
    cash_name = np.where(product_type == 1, "Cash X-Sell: ", "Cash Street: ")
    cash_full = np.where(with_interest, np.char.add(cash_name.astype(str), grade.astype(str)),
                         "Cash")
    card = np.where(rng.random(m) < 0.6, "Card Street", "Card X-Sell")
    names = np.select([consumer, cash, revolving], [pos, cash_full, card], "Cash")
    index = {name: i for i, name in enumerate(level)}
    return Cat(np.array([index.get(x, index["Cash"]) for x in names], dtype=np.int32), levels)


def generate_previous(rng: np.random.Generator, clients: ClientBlock, first_id: int
                      ) -> PreviousBlock:
    n = clients.size
    previous, loans = _applications(rng, clients, first_id)
    ids = previous["SK_ID_PREV"]
    late = late_propensity(rng, clients)
    utilisation = np.clip(rng.beta(1.3, 2.2, n) + 0.18 * clients.z, 0.0, 1.0)
    loan_sel = np.flatnonzero(loans["approved"] & ~loans["revolving"])
    card_sel = np.flatnonzero(loans["approved"] & loans["revolving"])
    pos = pos_months(rng, loans, loan_sel, late, ids[loan_sel], clients)
    instalments = instalments_of_loans(rng, loans, loan_sel, late, ids[loan_sel], clients)
    card, card_instalments = card_months(rng, loans, card_sel, ids[card_sel], clients,
                                          utilisation)
    instalments = {k: np.concatenate([instalments[k], card_instalments[k]]) for k in instalments}
    unpaid = rng.random(len(instalments["AMT_PAYMENT"])) < 0.0002
    instalments["DAYS_ENTRY_PAYMENT"] = np.where(unpaid, np.nan, instalments["DAYS_ENTRY_PAYMENT"])
    instalments["AMT_PAYMENT"] = np.where(unpaid, np.nan, instalments["AMT_PAYMENT"])
    shuffle = rng.permutation(len(instalments["AMT_PAYMENT"]))  # the real file is unsorted
    instalments = {k: v[shuffle] for k, v in instalments.items()}

    orphan_p = np.where(loans["revolving"], ORPHAN_SHARE["card"], ORPHAN_SHARE["loan"])
    keep = ~(loans["approved"] & (rng.random(len(ids)) < orphan_p))
    order = rng.permutation(int(keep.sum()))  # the real file is unsorted
    kept = np.flatnonzero(keep)[order]
    previous = {k: (Cat(v.codes[kept], v.levels) if isinstance(v, Cat) else np.asarray(v)[kept])
                for k, v in previous.items()}
    drivers = _drivers(clients, loans["parent"][kept], previous, instalments, card)
    return PreviousBlock(previous=previous, pos=pos, installments=instalments, card=card,
                         next_id=first_id + len(ids), drivers=drivers)


def _drivers(clients: ClientBlock, prev_parent: np.ndarray, previous: dict[str, object],
             instalments: dict[str, np.ndarray], card: dict[str, object]) -> dict[str, np.ndarray]:
    """Per-client facts the default mechanism reads, measured on the rows actually written."""
    n = clients.size
    base = int(clients.ids[0])  # ids are consecutive within a block: position = id - base
    refused = previous["NAME_CONTRACT_STATUS"].is_("Refused").astype(float)
    paid = ~np.isnan(instalments["AMT_PAYMENT"])
    inst_client = (instalments["SK_ID_CURR"][paid] - base).astype(np.int64)
    late = (instalments["DAYS_ENTRY_PAYMENT"][paid] > instalments["DAYS_INSTALMENT"][paid])
    card_client = (card["SK_ID_CURR"] - base).astype(np.int64)
    limit = card["AMT_CREDIT_LIMIT_ACTUAL"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(limit > 0, card["AMT_BALANCE"] / limit, np.nan)
    has_util = ~np.isnan(util)
    return {
        "previous_applications": per_parent_count(prev_parent, n),
        "previous_refused": per_parent_sum(prev_parent, refused, n),
        "instalments_paid": per_parent_count(inst_client, n),
        "instalments_late": per_parent_sum(inst_client, late.astype(float), n),
        "card_months": per_parent_count(card_client[has_util], n),
        "card_utilisation_sum": per_parent_sum(card_client[has_util], util[has_util], n),
    }
