"""The dashboard's words: one `Texts` per language gives every shown text from the message
catalogue (gettext domain `dashboard` of the `i18n` package; the msgid is the English text)
and formats numbers, money, percentages and dates with i18n's Babel formatting.

Texts defined away from where they are shown (labels of tables, tab names…) are marked with
`N_` so `pybabel extract` finds them, and translated with `Texts._` when shown. Values of the
client's data (family status, occupation…) are English in the warehouse and translated here
(`Texts.value`). No Panel here: plots and HTML charts use it too.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from markupsafe import Markup, escape

from i18n import (
    DASHBOARD_DEFAULT,
    LANGUAGES,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    gettext_for,
    negotiate_language,
)

DOMAIN = "dashboard"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def N_(message: str) -> str:
    """Mark a text for extraction where it is defined; `Texts._` translates it where shown."""
    return message


DECISION_WORDS = {"grant": N_("Grant"), "refuse": N_("Refuse")}
GROUP_LABELS = {"all": N_("All clients"), "outcome_0": N_("Repaid"),
                "outcome_1": N_("Had difficulties"), "pending": N_("Pending applications"),
                "similar": N_("50 most similar clients")}
OUTCOME_WORDS = {"repaid": N_("Repaid"), "difficulties": N_("Had difficulties"),
                 "pending": N_("Pending")}
# the client data's categories as the Home Credit files write them (raw values, English)
CLIENT_VALUES = (
    N_("female"), N_("male"), N_("Married"), N_("Single / not married"), N_("Civil marriage"),
    N_("Separated"), N_("Widow"), N_("Unknown"), N_("Secondary / secondary special"),
    N_("Higher education"), N_("Incomplete higher"), N_("Lower secondary"),
    N_("Academic degree"), N_("Working"), N_("Commercial associate"), N_("Pensioner"),
    N_("State servant"), N_("Businessman"), N_("Unemployed"), N_("Student"),
    N_("Maternity leave"), N_("Laborers"), N_("Sales staff"), N_("Core staff"),
    N_("Managers"), N_("Drivers"), N_("High skill tech staff"), N_("Accountants"),
    N_("Medicine staff"), N_("Cooking staff"), N_("Security staff"), N_("Cleaning staff"),
    N_("Low-skill Laborers"), N_("Private service staff"), N_("Secretaries"),
    N_("Waiters/barmen staff"), N_("Realty agents"), N_("IT staff"), N_("HR staff"),
    N_("Self-employed"), N_("Other"), N_("Medicine"), N_("Government"), N_("School"),
    N_("Kindergarten"), N_("Construction"), N_("Housing"), N_("Security"), N_("Postal"),
    N_("Agriculture"), N_("Military"), N_("Bank"), N_("Services"), N_("Security Ministries"),
    N_("Police"), N_("Restaurant"), N_("Hotel"), N_("Electricity"), N_("University"),
    N_("Emergency"), N_("Insurance"), N_("Culture"), N_("Advertising"), N_("Mobile"),
    N_("Telecom"), N_("Religion"), N_("Realtor"), N_("Legal Services"), N_("Cleaning"),
    N_("Cash loans"), N_("Revolving loans"))
# numbered kinds of employer ("Industry: type 3")
NUMBERED_VALUES = {"Business Entity Type": N_("Business entity, type {number}"),
                   "Industry: type": N_("Industry, type {number}"),
                   "Trade: type": N_("Trade, type {number}"),
                   "Transport: type": N_("Transport, type {number}")}
_NUMBERED = re.compile(r"^(Business Entity Type|Industry: type|Trade: type|Transport: type) "
                       r"(\d+)$")


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _html(text: str, params: dict[str, Any]) -> Markup:
    return Markup(escape(text)).format(
        **{k: v if isinstance(v, Markup) else escape(v) for k, v in params.items()})


@dataclass(frozen=True)
class Texts:
    """Catalogue texts and locale formats of one language ('fr' or 'en')."""

    lang: str

    # --- catalogue -------------------------------------------------------------------------

    def _(self, message: str, **params: Any) -> str:
        """The text of `message` (its English msgid) in this language, `{name}`s filled."""
        text = gettext_for(self.lang, DOMAIN)(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = _translations(self.lang).ngettext(singular, plural, n)
        return text.format(**params) if params else text

    def html(self, message: str, **params: Any) -> Markup:
        """`_` as HTML: the text escaped, each parameter escaped unless it is Markup."""
        return _html(gettext_for(self.lang, DOMAIN)(message), params)

    def nhtml(self, singular: str, plural: str, n: int, **params: Any) -> Markup:
        """`ngettext` as HTML, escaped as `html`."""
        return _html(_translations(self.lang).ngettext(singular, plural, n), params)

    def value(self, raw: Any) -> str:
        """A value of the client's data in words: its category translated, or 'unknown'."""
        if is_missing(raw) or raw in ("XNA", "XAP", ""):
            return self._("unknown")
        numbered = _NUMBERED.match(str(raw))
        if numbered:
            return self._(NUMBERED_VALUES[numbered.group(1)], number=numbered.group(2))
        return self._(str(raw))

    def decision(self, decision: str | None) -> str:
        return self._(DECISION_WORDS[decision]) if decision in DECISION_WORDS else "—"

    # --- numbers ---------------------------------------------------------------------------

    def number(self, value: float, decimals: int = 0) -> str:
        return format_number(value, self.lang, decimals)

    def money(self, value: float) -> str:
        return format_money(value, self.lang)

    def percent(self, share: float, decimals: int = 1) -> str:
        return format_percent(share, self.lang, decimals)

    def points(self, value: float, sign: bool = False) -> str:
        """Score points, signed (`+12`, `-3`, the locale's minus) when `sign`."""
        text = format_number(value, self.lang)
        return ("+" + text) if sign and value >= 0 else text

    def in_points(self, value: float, shown: str) -> str:
        """'1 point', '-3 points': `shown` (value as formatted) with the word in its number
        (a fraction such as 1.5 takes the plural)."""
        count = int(abs(value)) if float(value).is_integer() else 2
        return self.ngettext("{points} point", "{points} points", count, points=shown)

    def significant(self, value: float) -> str:
        """A feature value: whole above 1,000, else 3 significant digits."""
        if abs(value) >= 1000 or value == 0:
            return format_number(value, self.lang)
        decimals = max(0, 2 - math.floor(math.log10(abs(value))))
        return format_number(value, self.lang, decimals)

    def datetime(self, moment: Any) -> str:
        return format_datetime(moment, self.lang, "short")

    def date(self, day: Any) -> str:
        return format_date(day, self.lang)

    # --- the client's data in words --------------------------------------------------------

    def fmt_int(self, value: Any) -> str:
        return self._("unknown") if is_missing(value) else self.number(int(value))

    def fmt_money(self, value: Any) -> str:
        return self._("unknown") if is_missing(value) else self.money(float(value))

    def fmt_bool(self, value: Any) -> str:
        return self._("unknown") if is_missing(value) else (self._("yes") if value
                                                            else self._("no"))

    def fmt_score01(self, value: Any) -> str:
        return self._("not available") if is_missing(value) else self.number(float(value), 2)

    def fmt_years(self, value: Any) -> str:
        return (self._("not employed") if is_missing(value)
                else self._("{years} years", years=self.number(float(value), 1)))

    def fmt_number(self, value: Any) -> str:
        return self._("missing") if is_missing(value) else self.significant(float(value))


@cache
def _translations(lang: str) -> Any:
    from i18n import translations

    return translations(lang, DOMAIN)


@cache
def texts(lang: str) -> Texts:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return Texts(lang)


def session_language(query_lang: str | None, accept_language: str | None) -> str:
    """`?lang=`, else the browser's Accept-Language, else French."""
    return negotiate_language(query_lang, accept_language, DASHBOARD_DEFAULT)


ENGLISH = texts("en")
