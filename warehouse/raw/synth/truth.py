"""The planted default mechanism: each client's true probability of payment difficulties.

The log-odds are a sum of effects of *observable* drivers spread over all seven tables, measured
on the rows the generator writes, so a model fed good aggregates can approach the oracle:

| driver (table)                                  | effect on log-odds                            |
|-------------------------------------------------|-----------------------------------------------|
| external scores (application)                   | −1.1·probit(mean of available EXT_SOURCE_*)   |
|                                                 |  +0.25 when none is available                  |
| share of instalments paid late (installments)   | +2.4·√share (saturating); thin file +0.2       |
| bureau overdue loans / max days overdue         | +0.55·[any] + 0.18·ln(1+max days)              |
| active bureau debt / income                     | +0.35·ln(1+ratio)                              |
| refused previous applications                   | +0.45·refused^0.6 + 0.6·refused share          |
| card utilisation (credit_card_balance)          | +0.5·u + 1.6·max(u−0.7, 0)                     |
| annuity / income (application)                  | +1.2·r + 3.5·max(r−0.3, 0)                     |
| age (application)                               | +0.035·max(45−age, 0) − 0.01·max(age−60, 0)    |
| employment (application)                        | +0.45·exp(−years/1.5); not employed +0.15      |
| interactions                                    | +1.2·√late share·[mean EXT < 0.35]             |
|                                                 | +2.0·max(r−0.2, 0)·[age < 30]                  |

The centred sum is scaled so the oracle ROC AUC (true probability vs outcome, in expectation)
is 0.825, and shifted so the mean probability is the real 8.07 %. Outcomes are Bernoulli draws.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from warehouse.raw.synth.common import sigmoid

TARGET_RATE = 24825 / 307511
TARGET_ORACLE_AUC = 0.825


def driver_log_odds(d: dict[str, np.ndarray]) -> np.ndarray:
    """Uncalibrated log-odds from the per-client drivers (see the module table)."""
    ext = d["ext_sources"]
    available = ~np.isnan(ext)
    n_available = available.sum(axis=1)
    ext_mean = np.where(n_available > 0,
                        np.nansum(ext, axis=1) / np.maximum(n_available, 1), 0.5)
    ext_effect = -1.1 * ndtri(np.clip(ext_mean, 1e-4, 1 - 1e-4)) + 0.25 * (n_available == 0)

    paid = d["instalments_paid"]
    late_share = np.where(paid > 0, d["instalments_late"] / np.maximum(paid, 1), 0.0)
    late_effect = 2.4 * np.sqrt(late_share) + 0.2 * (paid == 0)

    bureau_effect = (0.55 * (d["bureau_overdue_loans"] > 0)
                     + 0.18 * np.log1p(d["bureau_max_days_overdue"])
                     + 0.35 * np.log1p(np.maximum(d["bureau_active_debt_to_income"], 0)))
    applications = d["previous_applications"]
    refused = d["previous_refused"]
    refused_share = np.where(applications > 0, refused / np.maximum(applications, 1), 0.0)
    refused_effect = 0.45 * refused ** 0.6 + 0.6 * refused_share

    months = d["card_months"]
    util = np.where(months > 0, d["card_utilisation_sum"] / np.maximum(months, 1), 0.0)
    card_effect = 0.5 * util + 1.6 * np.maximum(util - 0.7, 0)

    burden = np.nan_to_num(d["annuity"] / d["income"], nan=0.1)
    burden_effect = 1.2 * burden + 3.5 * np.maximum(burden - 0.3, 0)
    age = d["age_years"]
    age_effect = 0.035 * np.maximum(45 - age, 0) - 0.01 * np.maximum(age - 60, 0)
    years = d["years_employed"]
    employment_effect = np.where(np.isnan(years), 0.15, 0.45 * np.exp(-np.nan_to_num(years) / 1.5))
    interactions = (1.2 * np.sqrt(late_share) * (ext_mean < 0.35)
                    + 2.0 * np.maximum(burden - 0.2, 0) * (age < 30))
    return (ext_effect + late_effect + bureau_effect + refused_effect + card_effect
            + burden_effect + age_effect + employment_effect + interactions)


def expected_auc(p: np.ndarray) -> float:
    """ROC AUC of probabilities p against outcomes drawn from p, in expectation (exact, ties
    counted one half): P(p_pos > p_neg) with positives weighted p and negatives 1 − p."""
    order = np.argsort(p, kind="stable")
    ps = p[order]
    neg = 1.0 - ps
    _, start, counts = np.unique(ps, return_index=True, return_counts=True)
    neg_cum = np.concatenate([[0.0], np.cumsum(neg)])
    below = np.repeat(neg_cum[start], counts)  # negatives strictly below each value
    tied = np.repeat(neg_cum[start + counts] - neg_cum[start], counts)
    wins = np.sum(ps * (below + 0.5 * (tied - neg)))  # a client is not its own negative
    pos_total, neg_total = ps.sum(), neg.sum()
    self_pairs = np.sum(ps * neg)  # pairs of a client with itself are not pairs
    return float(wins / (pos_total * neg_total - self_pairs))


def _intercept_for_rate(eta: np.ndarray, rate: float) -> float:
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if sigmoid(eta + mid).mean() < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def calibrate(raw_log_odds: np.ndarray, rate: float = TARGET_RATE,
              oracle_auc: float = TARGET_ORACLE_AUC) -> tuple[float, float]:
    """Scale and intercept so the mean probability is `rate` and the expected AUC `oracle_auc`."""
    eta = raw_log_odds - raw_log_odds.mean()
    lo, hi = 0.05, 10.0
    for _ in range(40):
        scale = (lo + hi) / 2
        b = _intercept_for_rate(scale * eta, rate)
        if expected_auc(sigmoid(scale * eta + b)) < oracle_auc:
            lo = scale
        else:
            hi = scale
    scale = (lo + hi) / 2
    return scale, _intercept_for_rate(scale * eta, rate) - scale * raw_log_odds.mean()


def true_probability(raw_log_odds: np.ndarray) -> np.ndarray:
    scale, intercept = calibrate(raw_log_odds)
    return sigmoid(scale * raw_log_odds + intercept)
