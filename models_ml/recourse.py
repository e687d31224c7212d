"""Recourse — "what it would take": the smallest change of one lever that turns a refusal
into a grant, for one client on demand or for every refused pending client in the refresh.

Levers (CONTRACTS §6), never a protected or immutable attribute:
  credit_amount  a lower credit at the same payment rate: annuity and goods price scale with it
                 (a smaller purchase financed the same way);
  annuity        a lower annuity for the same credit (a longer repayment), at most
                 LONGEST_TERM_FACTOR times as long as applied for;
  down_payment   a lower credit for the same goods price (the client pays the difference
                 upfront), annuity at the same payment rate.
Values move on a grid of round amounts (STEPS) from the applied value down to the lowest the
bounds allow. The search assumes the decision is monotone along a lever and brackets the
boundary: each round scores `probes` grid points inside every open bracket — all clients and
levers together, one feature query and one model call per round (vectorised). Bisection
(probes = 1) is cheapest in rows for the batch; on demand more probes per round mean fewer
rounds, which is what costs there. The model is not constrained to be monotone, so the option
found is the smallest *on the bracket the search followed*; every option is then scored with the
batch's own contribution path and kept only if that score grants.

Texts are in the message catalogue (i18n, domain `pad`, msgctxt `recourse`, by lever):
`option_text(..., lang)`; the refresh stores the English sentence with its text_code.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from i18n import format_money, format_number, translate
from models_ml.explain import compute_contributions, score_from_contributions
from models_ml.feature_sql import PointLookup
from models_ml.whatif import FIELDS, EditError, WhatIfModel, candidates_table, validate_edits

LEVERS = ("credit_amount", "annuity", "down_payment")
STEPS = {"credit_amount": 1_000.0, "annuity": 100.0, "down_payment": 1_000.0}
LONGEST_TERM_FACTOR = 2.0
MAX_OPTIONS = 3
TEXT_KEYS = (*LEVERS, "none", "granted")


def catalogue_codes() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of the recourse sentences (i18n/pad.cfg extracts them)."""
    return [("recourse", key) for key in TEXT_KEYS]


def recourse_text(text_code: str, lang: str, **params: Any) -> str:
    """A recourse sentence by its text_code ('recourse.none', 'recourse.credit_amount'…)."""
    return translate("recourse", text_code.removeprefix("recourse."), lang, **params)


class _EnglishTexts(Mapping[str, str]):
    """English sentence templates by text_code, as stored in ml.client_recourse (read from the
    catalogue when asked, so importing this module does not need it)."""

    def __getitem__(self, text_code: str) -> str:
        if text_code.removeprefix("recourse.") not in TEXT_KEYS:
            raise KeyError(text_code)
        return recourse_text(text_code, "en")

    def __iter__(self) -> Iterator[str]:
        return iter(f"recourse.{key}" for key in TEXT_KEYS)

    def __len__(self) -> int:
        return len(TEXT_KEYS)


TEXTS: Mapping[str, str] = _EnglishTexts()


@dataclass(frozen=True)
class Case:
    """A refused application to find options for: the client, the edits it already carries
    and the effective application (published values with those edits, human units)."""

    sk_id_curr: int
    edits: dict[str, Any]
    application: dict[str, Any]
    published: dict[str, Any]


@dataclass(frozen=True)
class Option:
    sk_id_curr: int
    lever: str
    edits: dict[str, Any]
    score: int
    probability_default: float
    change: float                # relative size of the change (ranks the options)
    text_code: str
    text: str


@dataclass(frozen=True)
class _Task:
    case: int                    # index into the cases
    lever: str
    top: float                   # grid value 0 (the first round amount below the applied one)
    step: float
    count: int                   # grid values top, top − step, … (count of them)

    def value(self, k: int) -> float:
        return self.top - k * self.step


def lever_edits(lever: str, app: dict[str, Any], value: float) -> dict[str, Any]:
    """The application fields a lever changes when its value is `value` (human units)."""
    credit, annuity, goods = app["credit_amount"], app.get("annuity"), app.get("goods_price")
    if lever == "annuity":
        return {"annuity": value}
    ratio = value / credit
    edits: dict[str, Any] = {"credit_amount": value}
    if annuity is not None:
        edits["annuity"] = round(annuity * ratio, 2)
    if lever == "credit_amount" and goods is not None:
        edits["goods_price"] = round(goods * ratio, 2)
    return edits


def _task(index: int, lever: str, app: dict[str, Any]) -> _Task | None:
    """The lever's grid for one application, or None when the lever cannot apply."""
    credit, annuity, goods = app.get("credit_amount"), app.get("annuity"), app.get("goods_price")
    step = STEPS[lever]
    if not credit:
        return None
    if lever == "annuity":
        if not annuity:
            return None
        current, lowest = annuity, max(FIELDS["annuity"].low, annuity / LONGEST_TERM_FACTOR)
    else:
        if lever == "down_payment" and not goods:
            return None
        current = credit
        # the scaled annuity stays ≥ its minimum, the goods price ≤ 10 × the credit
        lowest = max(FIELDS["credit_amount"].low,
                     FIELDS["annuity"].low * credit / annuity if annuity else 0.0,
                     goods / 10 if lever == "down_payment" and goods else 0.0)
    top = math.ceil(current / step - 1) * step
    lowest = math.ceil(lowest / step) * step
    if top < lowest:
        return None
    return _Task(index, lever, top, step, round((top - lowest) / step) + 1)


Scorer = Callable[[list[tuple[int, dict[str, Any]]]], tuple[np.ndarray, np.ndarray]]


def make_scorer(engine: WhatIfModel, cur: duckdb.DuckDBPyConnection, catalog: str,
                threads: int = 1, point: PointLookup | None = None) -> Scorer:
    """(client, edits) pairs → (granted, feature rows), one feature query for all of them
    (`point`: as WhatIfModel.features)."""
    def score(pairs: list[tuple[int, dict[str, Any]]]) -> tuple[np.ndarray, np.ndarray]:
        keys = np.arange(len(pairs), dtype=np.int64)
        clients = np.array([c for c, _ in pairs], dtype=np.int64)
        out_keys, X = engine.features(cur, candidates_table(keys, clients,
                                                            [e for _, e in pairs]), catalog,
                                        point)
        X = X[np.argsort(out_keys)]
        return engine.granted(engine.log_odds(X, threads)), X
    return score


def find_options(cases: list[Case], engine: WhatIfModel, scorer: Scorer, probes: int = 1,
                 threads: int = 1) -> dict[int, list[Option]]:
    """Up to MAX_OPTIONS verified options per client (sk_id_curr → options, best first)."""
    tasks = [t for i, case in enumerate(cases) for lever in LEVERS
             if (t := _task(i, lever, case.application)) is not None]
    edits_of = [lambda k, t=t: {**cases[t.case].edits,
                                **lever_edits(t.lever, cases[t.case].application, t.value(k))}
                for t in tasks]
    lo = np.full(len(tasks), -1, dtype=np.int64)              # index −1: as applied, refused
    hi = np.array([t.count - 1 for t in tasks], dtype=np.int64)
    width = probes + 1
    best_X = np.full((len(tasks), len(engine.model.features)), np.nan)
    # round 0: the extreme of each lever; a lever that cannot grant even there is dropped
    probe_sets: list[list[int]] = [[int(h)] for h in hi]
    reachable = np.zeros(len(tasks), dtype=bool)
    first = True
    while True:
        pairs, owners, points = [], [], []
        for j, ks in enumerate(probe_sets):
            for k in ks:
                pairs.append((cases[tasks[j].case].sk_id_curr, edits_of[j](k)))
                owners.append(j)
                points.append(k)
        if not pairs:
            break
        granted, X = scorer(pairs)
        for j, k, ok, row in zip(owners, points, granted, X, strict=True):
            if first:
                reachable[j] = ok
                if ok:
                    best_X[j] = row
            elif ok and k < hi[j]:
                hi[j] = k
                best_X[j] = row
        for j, k, ok in zip(owners, points, granted, strict=True):
            if not first and not ok and lo[j] < k < hi[j]:
                lo[j] = k
        first = False
        probe_sets = [_interior(int(lo[j]), int(hi[j]), width) if reachable[j] else []
                      for j in range(len(tasks))]
    return _verified(cases, tasks, edits_of, hi, reachable, best_X, engine, threads)


def _interior(lo: int, hi: int, width: int) -> list[int]:
    """Up to width − 1 grid indices evenly inside (lo, hi)."""
    if hi - lo <= 1:
        return []
    return sorted({lo + max(1, min(hi - lo - 1, round((hi - lo) * i / width)))
                   for i in range(1, width)})


def _verified(cases: list[Case], tasks: list[_Task], edits_of: list, hi: np.ndarray,
              reachable: np.ndarray, best_X: np.ndarray, engine: WhatIfModel, threads: int
              ) -> dict[int, list[Option]]:
    """Score every candidate option through the batch's contributions; keep the grants."""
    found = np.flatnonzero(reachable)
    options: dict[int, list[Option]] = {}
    if not len(found):
        return options
    shap_values, base = compute_contributions(engine.model, best_X[found], threads)
    scored = score_from_contributions(engine.model, shap_values, base)
    for row, j in enumerate(found):
        if scored["decision"][row] != "grant":
            continue
        task, case = tasks[j], cases[tasks[j].case]
        edits = edits_of[j](int(hi[j]))
        try:  # rounding (e.g. of a scaled annuity) must not leave the bounds
            validate_edits(edits, case.published)
        except EditError:
            continue
        applied = case.application["annuity" if task.lever == "annuity" else "credit_amount"]
        score = int(scored["score"][row])
        options.setdefault(case.sk_id_curr, []).append(Option(
            sk_id_curr=case.sk_id_curr, lever=task.lever, edits=edits, score=score,
            probability_default=float(scored["probability_default"][row]),
            change=(applied - task.value(int(hi[j]))) / applied,
            text_code=f"recourse.{task.lever}",
            text=option_text(task.lever, case.application, edits, score,
                             engine.model.score_cutoff)))
    return {c: sorted(opts, key=lambda o: (o.change, LEVERS.index(o.lever)))[:MAX_OPTIONS]
            for c, opts in options.items()}


def _amount(value: float, lang: str) -> str:
    return format_money(value, lang, decimals=0 if float(value).is_integer() else 2)


def option_text(lever: str, applied: dict[str, Any], edits: dict[str, Any], score: int,
                cutoff: int, lang: str = "en") -> str:
    """The sentence of an option, amounts formatted for `lang`."""
    credit = edits.get("credit_amount", applied["credit_amount"])
    return recourse_text(
        lever, lang, credit_amount=_amount(credit, lang),
        applied_credit=_amount(applied["credit_amount"], lang),
        annuity=_amount(edits.get("annuity", applied.get("annuity") or 0), lang),
        applied_annuity=_amount(applied.get("annuity") or 0, lang),
        down_payment=_amount(applied["credit_amount"] - credit, lang),
        score=format_number(score, lang), cutoff=format_number(cutoff, lang))


def options_frame_rows(options: dict[int, list[Option]], model_version: str
                       ) -> list[tuple[Any, ...]]:
    """Rows of ml.client_recourse (sk_id_curr, model_version, option_rank, lever, edits,
    score, probability_default, text_code, text)."""
    return [(o.sk_id_curr, model_version, rank, o.lever, json.dumps(o.edits), o.score,
             o.probability_default, o.text_code, o.text)
            for client in sorted(options) for rank, o in enumerate(options[client], start=1)]
