"""Numbers, money, percentages and dates for a language, with Babel's CLDR data.

French uses its typographic spaces: a narrow no-break space (U+202F) between thousands and a
no-break space (U+00A0) before `€` and `%` — `310 500 €`, `22,9 %`. English money is a plain
grouped amount without a currency sign (`310,500`), as the dashboard has always shown it.
Dates and times are shown in UTC, as every timestamp of the product.
"""
from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from functools import cache

from babel.core import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import NumberPattern

from i18n.catalogue import LANGUAGES, UnknownLanguage

CURRENCY = "EUR"


@cache
def _locale(lang: str) -> Locale:
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return Locale.parse(lang)


@cache
def _pattern(lang: str, kind: str, decimals: int) -> NumberPattern:
    """The locale's own pattern of a kind, with exactly `decimals` decimals."""
    locale = _locale(lang)
    pattern = copy.copy({"decimal": locale.decimal_formats[None],
                         "percent": locale.percent_formats[None],
                         "currency": locale.currency_formats["standard"]}[kind])
    pattern.frac_prec = (decimals, decimals)
    return pattern


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """`1234567.8` → `1 234 568` (fr), `1,234,568` (en); `decimals` fixed."""
    return _pattern(lang, "decimal", decimals).apply(value, _locale(lang))


def format_money(value: float, lang: str, decimals: int = 0) -> str:
    """An amount in euros: `310 500 €` (fr), `310,500` (en)."""
    if lang == "en":
        return format_number(value, lang, decimals)
    return _pattern(lang, "currency", decimals).apply(value, _locale(lang), currency=CURRENCY,
                                                      currency_digits=False)


def format_percent(share: float, lang: str, decimals: int = 1) -> str:
    """A share (0.229) as a percentage: `22,9 %` (fr), `22.9%` (en)."""
    return _pattern(lang, "percent", decimals).apply(share, _locale(lang))


def format_datetime(moment: datetime, lang: str, width: str = "medium") -> str:
    """A tz-aware timestamp in UTC: `30 nov. 2026, 19:05:00` (fr), `Nov 30, 2026, 7:05:00 PM`
    (en). A naive timestamp is refused: every timestamp of the product is UTC-aware."""
    if moment.tzinfo is None:
        raise ValueError("format_datetime needs a tz-aware timestamp")
    return babel_format_datetime(moment, width, tzinfo=UTC, locale=_locale(lang))


def format_date(day: date | datetime, lang: str, width: str = "medium") -> str:
    """A date (a timestamp's UTC date): `30 nov. 2026` (fr), `Nov 30, 2026` (en)."""
    if isinstance(day, datetime):
        if day.tzinfo is None:
            raise ValueError("format_date needs a tz-aware timestamp")
        day = day.astimezone(UTC).date()
    return babel_format_date(day, width, locale=_locale(lang))
