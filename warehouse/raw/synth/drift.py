"""Planted population drift for the monthly arrivals of `pad sample --months M --drift SPEC`.

SPEC grammar: comma-separated `key=signed number` terms, e.g.
`income=-0.10,cash_share=+0.2,ext_source_3=-0.05`. Each key at most once:

| key            | effect on every new application from month 1 on                            |
|----------------|-----------------------------------------------------------------------------|
| `income`       | AMT_INCOME_TOTAL × (1 + x), x > −1 (−0.10 = incomes 10 % lower)              |
| `credit`       | AMT_CREDIT, AMT_ANNUITY, AMT_GOODS_PRICE × (1 + x), x > −1                   |
| `cash_share`   | share of 'Cash loans' + x (−1 ≤ x ≤ 1): that share of the applications of the |
|                | other type switch type (amounts kept), so the share moves by x in expectation |
|                | (capped by what is available)                                                 |
| `ext_source_N` | EXT_SOURCE_N (N = 1, 2, 3) + x, clipped to the column's range; missing stays |
|                | missing; EXT_SOURCE_3 stays on its grid of real values                        |

The drift is applied to the application before the other tables and the planted default
mechanism read it, so it moves the true probabilities the way the mechanism says (lower incomes
raise the annuity/income burden; a worse external score raises the risk) — by a known amount.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from warehouse.errors import BadInput
from warehouse.raw.synth.application import EXT3_GRID, ClientBlock
from warehouse.raw.synth.common import Cat, money

KEYS = ("income", "credit", "cash_share", "ext_source_1", "ext_source_2", "ext_source_3")
_TERM = re.compile(r"^\s*([a-z_0-9]+)\s*=\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$")
_EXT_RANGE = {1: (0.0146, 0.9627), 2: (8.2e-8, 0.855), 3: (float(EXT3_GRID[0]), float(EXT3_GRID[-1]))}


@dataclass(frozen=True)
class DriftSpec:
    """Parsed drift: key → amount (see the module table)."""

    shifts: tuple[tuple[str, float], ...] = ()

    def get(self, key: str) -> float:
        return dict(self.shifts).get(key, 0.0)

    @property
    def touched_columns(self) -> list[str]:
        """Kaggle application columns the drift changes."""
        columns = {"income": ["AMT_INCOME_TOTAL"],
                   "credit": ["AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE"],
                   "cash_share": ["NAME_CONTRACT_TYPE"]}
        out: list[str] = []
        for key, _ in self.shifts:
            out += columns.get(key, [key.upper()])
        return out

    def __str__(self) -> str:
        return ",".join(f"{k}={v:+g}" for k, v in self.shifts)


def parse_drift(spec: str | None) -> DriftSpec:
    """`income=-0.10,cash_share=+0.2` → DriftSpec; anything else is one clear BadInput line."""
    if spec is None or not spec.strip():
        return DriftSpec()
    shifts: dict[str, float] = {}
    for term in spec.split(","):
        match = _TERM.match(term)
        if not match:
            raise BadInput(f"--drift: '{term.strip()}' is not KEY=NUMBER (e.g. income=-0.10)")
        key, value = match.group(1), float(match.group(2))
        if key not in KEYS:
            raise BadInput(f"--drift: unknown key '{key}' (known: {', '.join(KEYS)})")
        if key in shifts:
            raise BadInput(f"--drift: key '{key}' given twice")
        if key in ("income", "credit") and value <= -1:
            raise BadInput(f"--drift: {key}={value:g} must be above -1 (a relative change)")
        if key != "income" and key != "credit" and abs(value) > 1:
            raise BadInput(f"--drift: {key}={value:g} must lie between -1 and 1")
        shifts[key] = value
    return DriftSpec(tuple(shifts.items()))


def apply_drift(rng: np.random.Generator, block: ClientBlock, drift: DriftSpec) -> None:
    """Shift one block of new applications in place (before the other tables read it)."""
    cols = block.columns
    if drift.get("income"):
        income = money(block.income * (1 + drift.get("income")), 0.5)
        block.income = income
        cols["AMT_INCOME_TOTAL"] = income
    if drift.get("credit"):
        factor = 1 + drift.get("credit")
        block.credit = money(block.credit * factor, 0.5)
        block.annuity = money(block.annuity * factor, 0.5)
        cols["AMT_CREDIT"], cols["AMT_ANNUITY"] = block.credit, block.annuity
        cols["AMT_GOODS_PRICE"] = money(np.asarray(cols["AMT_GOODS_PRICE"]) * factor, 0.5)
    if drift.get("cash_share"):
        cols["NAME_CONTRACT_TYPE"] = _shift_cash_share(rng, cols["NAME_CONTRACT_TYPE"],
                                                       drift.get("cash_share"))
    for n in (1, 2, 3):
        shift = drift.get(f"ext_source_{n}")
        if shift:
            low, high = _EXT_RANGE[n]
            values = np.clip(block.ext_sources[:, n - 1] + shift, low, high)
            if n == 3:
                at = np.clip(np.searchsorted(EXT3_GRID, values), 0, len(EXT3_GRID) - 1)
                values = np.where(np.isnan(values), np.nan, EXT3_GRID[at])
            block.ext_sources[:, n - 1] = values
            cols[f"EXT_SOURCE_{n}"] = block.ext_sources[:, n - 1].copy()


def _shift_cash_share(rng: np.random.Generator, contract: Cat, shift: float) -> Cat:
    cash = contract.is_("Cash loans")
    share = cash.mean() if len(cash) else 0.0
    if shift > 0:  # switch revolving → cash
        donors, target = ~cash, contract.levels.index("Cash loans")
        rate = min(shift / max(1 - share, 1e-9), 1.0)
    else:
        donors, target = cash, contract.levels.index("Revolving loans")
        rate = min(-shift / max(share, 1e-9), 1.0)
    switch = donors & (rng.random(len(cash)) < rate)
    codes = contract.codes.copy()
    codes[switch] = target
    return Cat(codes, contract.levels)
