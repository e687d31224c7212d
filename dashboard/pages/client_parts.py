"""Parts of a client's file shown on the client page, the client's own view and the what-if
card: descriptive data in four groups, the decision summary, and the reasons."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from dashboard.formatting import (
    STYLE,
    badge,
    fmt_bool,
    fmt_int,
    fmt_money,
    fmt_score01,
    fmt_text,
    fmt_years_employed,
    is_missing,
)
from dashboard.schemas import ClientRecord, ClientScore, Explanation, FamilyContribution
from dashboard.theme import TEXT


def _ratio(record: ClientRecord, top: str, bottom: str) -> float | None:
    a, b = getattr(record, top), getattr(record, bottom)
    return None if is_missing(a) or is_missing(b) or not b else float(a) / float(b)


Field = tuple[str, str, Callable[[ClientRecord], str]]


def _field(name: str, label: str, fmt: Callable[[Any], str]) -> Field:
    return name, label, lambda r: fmt(getattr(r, name, None))


PROFILE_GROUPS: list[tuple[str, list[Field]]] = [
    ("Identity and family", [
        _field("age_years", "Age", lambda v: "unknown" if is_missing(v) else f"{int(v)} years"),
        _field("gender", "Gender", fmt_text),
        _field("family_status", "Family status", fmt_text),
        _field("children", "Children", fmt_int),
        _field("education", "Education", fmt_text),
        _field("region_rating", "Region rating (1 best, 3 weakest)", fmt_int),
    ]),
    ("Income and employment", [
        _field("income_type", "Income type", fmt_text),
        _field("occupation", "Occupation", fmt_text),
        _field("organization", "Employer type", fmt_text),
        _field("years_employed", "Time in current job", fmt_years_employed),
        _field("income", "Total income", fmt_money),
        _field("own_car", "Owns a car", fmt_bool),
        _field("own_realty", "Owns real estate", fmt_bool),
    ]),
    ("The credit asked", [
        _field("contract_type", "Contract", fmt_text),
        _field("credit_amount", "Credit amount", fmt_money),
        _field("annuity", "Annuity (regular repayment)", fmt_money),
        _field("goods_price", "Price of the goods financed", fmt_money),
        ("_annuity_income", "Annuity / income",
         lambda r: "unknown" if (v := _ratio(r, "annuity", "income")) is None else f"{v:.1%}"),
        ("_credit_annuity", "Credit / annuity (number of annuities)",
         lambda r: "unknown" if (v := _ratio(r, "credit_amount", "annuity")) is None
         else f"{v:.1f}"),
    ]),
    ("History here and elsewhere", [
        _field("bureau_loans", "Loans reported by other lenders", fmt_int),
        _field("bureau_active_loans", "… of which still active", fmt_int),
        _field("previous_applications", "Previous applications with us", fmt_int),
        _field("previous_refused", "… of which refused", fmt_int),
        _field("ext_source_1", "External score 1 (0–1, higher is better)", fmt_score01),
        _field("ext_source_2", "External score 2 (0–1, higher is better)", fmt_score01),
        _field("ext_source_3", "External score 3 (0–1, higher is better)", fmt_score01),
    ]),
]


def profile_html(record: ClientRecord) -> str:
    """The descriptive data in four labelled groups (semantic tables)."""
    cards = []
    for title, fields in PROFILE_GROUPS:
        rows = "".join(f"<tr><th scope='row'>{html.escape(label)}</th>"
                       f"<td>{html.escape(fmt(record))}</td></tr>" for _, label, fmt in fields)
        cards.append(f"<section class='pad-card' style='flex:1 1 260px'>"
                     f"<h3>{html.escape(title)}</h3><table>{rows}</table></section>")
    return (STYLE + "<div data-testid='client-profile' style='display:flex;flex-wrap:wrap;"
            "gap:12px'>" + "".join(cards) + "</div>")


def decision_sentence(score: ClientScore) -> str:
    """Where the score stands against the cutoff (refuse when score ≤ cutoff)."""
    cutoff = round(score.score_cutoff)
    if score.decision == "grant":
        return (f"{score.score - cutoff} points above the refusal cutoff: applications scoring "
                f"{cutoff} points or less are refused.")
    return (f"{cutoff + 1 - score.score} points short of the {cutoff + 1} points needed to be "
            f"granted.")



def summary_html(score: ClientScore) -> str:
    """Decision, score, band and probability; `data-client` marks whose page is shown."""
    return (
        STYLE + f"<div data-testid='client-summary' data-client='{score.sk_id_curr}' "
        f"data-decision='{html.escape(score.decision)}' style='color:{TEXT}'>"
        f"<h2 style='margin:0 0 6px 0'>Client {score.sk_id_curr} {badge(score.decision)}</h2>"
        f"<div style='font-size:1.15em'><b data-testid='score'>Score {score.score} points</b>"
        f" · risk band <b>{html.escape(score.risk_band)}</b> (A safest, E riskiest) · "
        f"estimated probability of payment difficulties "
        f"<b>{score.probability_default:.1%}</b> (refused above {score.threshold:.1%})</div>"
        f"<div class='pad-muted'>{html.escape(decision_sentence(score))} "
        f"Model {html.escape(score.model_version)}.</div></div>")


def favourable_families(families: Iterable[FamilyContribution], top: int = 3) -> list[
        FamilyContribution]:
    return sorted((f for f in families if f.points > 0.5), key=lambda f: -f.points)[:top]


def reasons_html(explanation: Explanation, for_client: bool = False) -> str:
    """The reasons in plain words, and what worked in the client's favour."""
    against = "".join(f"<li>{html.escape(r.reason_text)} <span class='pad-muted'>"
                      f"({r.points:+.0f} points)</span></li>" for r in explanation.reasons)
    favour = "".join(f"<li>{html.escape(f.family_label)} <span class='pad-muted'>"
                     f"({f.points:+.0f} points)</span></li>"
                     for f in favourable_families(explanation.families))
    you = "your" if for_client else "the"
    none_against = (f"<p>Nothing in {you} file lowers the score notably.</p>")
    return (
        STYLE + f"<div style='display:flex;flex-wrap:wrap;gap:12px;color:{TEXT}'>"
        f"<section class='pad-card' style='flex:1 1 320px'>"
        f"<h3>What lowers {you} score</h3>"
        + (f"<ol data-testid='reasons'>{against}</ol>" if against else none_against)
        + "</section><section class='pad-card' style='flex:1 1 320px'>"
        f"<h3>What raises {you} score</h3>"
        + (f"<ul data-testid='favourable'>{favour}</ul>" if favour else "<p>—</p>")
        + "</section></div>")


