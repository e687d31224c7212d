"""Parts of a client's file shown on the client page, the client's own view and the what-if
card: descriptive data in four groups, the decision summary, and the reasons."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from dashboard.formatting import STYLE, badge
from dashboard.schemas import ClientRecord, ClientScore, FamilyContribution
from dashboard.texts import N_, Texts, is_missing
from dashboard.theme import TEXT
from i18n import translate
from models_ml.families import feature_label


def _ratio(record: ClientRecord, top: str, bottom: str) -> float | None:
    a, b = getattr(record, top), getattr(record, bottom)
    return None if is_missing(a) or is_missing(b) or not b else float(a) / float(b)


Shown = Callable[[ClientRecord, Texts], str]


def _field(name: str, label: str, kind: str) -> tuple[str, Shown]:
    """A column of serving.clients shown with a `Texts` formatter (`value`, `fmt_money`…)."""
    return label, lambda r, tr: getattr(tr, kind)(getattr(r, name, None))


def _age(record: ClientRecord, tr: Texts) -> str:
    if is_missing(record.age_years):
        return tr._("unknown")
    return tr._("{years} years", years=tr.number(int(record.age_years)))


def _annuity_income(record: ClientRecord, tr: Texts) -> str:
    share = _ratio(record, "annuity", "income")
    return tr._("unknown") if share is None else tr.percent(share)


def _annuities(record: ClientRecord, tr: Texts) -> str:
    count = _ratio(record, "credit_amount", "annuity")
    return tr._("unknown") if count is None else tr.number(count, 1)


PROFILE_GROUPS: list[tuple[str, list[tuple[str, Shown]]]] = [
    (N_("Identity and family"), [
        (N_("Age"), _age),
        _field("gender", N_("Gender"), "value"),
        _field("family_status", N_("Family status"), "value"),
        _field("children", N_("Children"), "fmt_int"),
        _field("education", N_("Education"), "value"),
        _field("region_rating", N_("Region rating (1 best, 3 weakest)"), "fmt_int"),
    ]),
    (N_("Income and employment"), [
        _field("income_type", N_("Income type"), "value"),
        _field("occupation", N_("Occupation"), "value"),
        _field("organization", N_("Employer type"), "value"),
        _field("years_employed", N_("Time in current job"), "fmt_years"),
        _field("income", N_("Total income"), "fmt_money"),
        _field("own_car", N_("Owns a car"), "fmt_bool"),
        _field("own_realty", N_("Owns real estate"), "fmt_bool"),
    ]),
    (N_("The credit asked"), [
        _field("contract_type", N_("Contract"), "value"),
        _field("credit_amount", N_("Credit amount"), "fmt_money"),
        _field("annuity", N_("Annuity (regular repayment)"), "fmt_money"),
        _field("goods_price", N_("Price of the goods financed"), "fmt_money"),
        (N_("Annuity / income"), _annuity_income),
        (N_("Credit / annuity (number of annuities)"), _annuities),
    ]),
    (N_("History here and elsewhere"), [
        _field("bureau_loans", N_("Loans reported by other lenders"), "fmt_int"),
        _field("bureau_active_loans", N_("… of which still active"), "fmt_int"),
        _field("previous_applications", N_("Previous applications with us"), "fmt_int"),
        _field("previous_refused", N_("… of which refused"), "fmt_int"),
        _field("ext_source_1", N_("External score 1 (0–1, higher is better)"), "fmt_score01"),
        _field("ext_source_2", N_("External score 2 (0–1, higher is better)"), "fmt_score01"),
        _field("ext_source_3", N_("External score 3 (0–1, higher is better)"), "fmt_score01"),
    ]),
]


def profile_html(record: ClientRecord, tr: Texts) -> str:
    """The descriptive data in four labelled groups (semantic tables)."""
    cards = []
    for title, fields in PROFILE_GROUPS:
        rows = "".join(f"<tr><th scope='row'>{html.escape(tr._(label))}</th>"
                       f"<td>{html.escape(shown(record, tr))}</td></tr>"
                       for label, shown in fields)
        cards.append(f"<section class='pad-card' style='flex:1 1 260px'>"
                     f"<h3>{html.escape(tr._(title))}</h3><table>{rows}</table></section>")
    return (STYLE + "<div data-testid='client-profile' style='display:flex;flex-wrap:wrap;"
            "gap:12px'>" + "".join(cards) + "</div>")


def decision_sentence(score: ClientScore, tr: Texts) -> str:
    """Where the score stands against the cutoff (refuse when score ≤ cutoff)."""
    cutoff = round(score.score_cutoff)
    if score.decision == "grant":
        above = round(score.score - cutoff)
        return tr.ngettext("{above} point above the refusal cutoff: applications scoring "
                           "{cutoff} points or less are refused.",
                           "{above} points above the refusal cutoff: applications scoring "
                           "{cutoff} points or less are refused.", above,
                           above=tr.number(above), cutoff=tr.number(cutoff))
    short = round(cutoff + 1 - score.score)
    return tr.ngettext("{short} point short of the {needed} points needed to be granted.",
                       "{short} points short of the {needed} points needed to be granted.",
                       short, short=tr.number(short), needed=tr.number(cutoff + 1))


def summary_html(score: ClientScore, tr: Texts) -> str:
    """Decision, score, band and probability; `data-client` marks whose page is shown."""
    # nested in tr.html(…), a tr._ call would escape pybabel: written before it
    points = tr._("Score {points} points", points=tr.number(score.score))
    line = tr.html(
        "{score} · risk band {band} (A safest, E riskiest) · estimated probability of payment "
        "difficulties {probability} (refused above {threshold})",
        score=_bold(points, "score"),
        band=_bold(score.risk_band), probability=_bold(tr.percent(score.probability_default)),
        threshold=tr.percent(score.threshold))
    return (
        STYLE + f"<div data-testid='client-summary' data-client='{score.sk_id_curr}' "
        f"data-decision='{html.escape(score.decision)}' style='color:{TEXT}'>"
        f"<h2 style='margin:0 0 6px 0'>{html.escape(tr._('Client {id}', id=score.sk_id_curr))} "
        f"{badge(score.decision, tr)}</h2><div style='font-size:1.15em'>{line}</div>"
        f"<div class='pad-muted'>{html.escape(decision_sentence(score, tr))} "
        f"{html.escape(tr._('Model {version}.', version=score.model_version))}</div></div>")


def _bold(text: str, testid: str | None = None) -> Any:
    from markupsafe import Markup

    mark = f" data-testid='{testid}'" if testid else ""
    return Markup(f"<b{mark}>{html.escape(text)}</b>")


def reason_words(reason: Any, tr: Texts) -> str:
    """A reason in the reader's language, from its code (the warehouse's text is English)."""
    return translate("reason", reason.reason_code, tr.lang, default=reason.reason_text)


def family_words(family: Any, tr: Texts) -> str:
    return translate("family", family.family, tr.lang, default=family.family_label)


def driver_frame(drivers: Iterable[Any], tr: Texts) -> pd.DataFrame:
    """The drivers as a frame, feature labels in the reader's language."""
    frame = pd.DataFrame([d.model_dump() for d in drivers])
    if len(frame):
        frame["feature_label"] = [feature_label(name, tr.lang, label) for name, label in
                                  zip(frame["feature_name"], frame["feature_label"], strict=True)]
    return frame


def favourable_families(families: Iterable[FamilyContribution], top: int = 3) -> list[
        FamilyContribution]:
    return sorted((f for f in families if f.points > 0.5), key=lambda f: -f.points)[:top]


def _points(points: float, tr: Texts) -> str:
    return tr.in_points(round(points), tr.points(round(points), sign=True))


def reasons_html(explanation: Any, tr: Texts, for_client: bool = False) -> str:
    """The reasons in plain words, and what worked in the client's favour."""
    against = "".join(f"<li>{html.escape(reason_words(r, tr))} <span "
                      f"class='pad-muted'>({html.escape(_points(r.points, tr))})</span></li>"
                      for r in explanation.reasons)
    favour = "".join(f"<li>{html.escape(family_words(f, tr))} <span "
                     f"class='pad-muted'>({html.escape(_points(f.points, tr))})</span></li>"
                     for f in favourable_families(explanation.families))
    if for_client:
        lowers, raises = tr._("What weighs against your application"), tr._(
            "What works in your favour")
        nothing = tr._("Nothing in your file weighs notably against your application.")
    else:
        lowers, raises = tr._("What lowers the score"), tr._("What raises the score")
        nothing = tr._("Nothing in the file lowers the score notably.")
    return (
        STYLE + f"<div style='display:flex;flex-wrap:wrap;gap:12px;color:{TEXT}'>"
        f"<section class='pad-card' style='flex:1 1 320px'><h3>{html.escape(lowers)}</h3>"
        + (f"<ol data-testid='reasons'>{against}</ol>" if against
           else f"<p>{html.escape(nothing)}</p>")
        + f"</section><section class='pad-card' style='flex:1 1 320px'>"
        f"<h3>{html.escape(raises)}</h3>"
        + (f"<ul data-testid='favourable'>{favour}</ul>" if favour else "<p>—</p>")
        + "</section></div>")


# texts written inside f-strings, which pybabel does not read: marked here for extraction
IN_F_STRINGS = (N_("Client {id}"), N_("Model {version}."))
