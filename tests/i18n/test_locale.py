"""Language negotiation and Babel's locale formatting (numbers, money, percent, UTC dates)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from i18n import (
    API_DEFAULT,
    DASHBOARD_DEFAULT,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    gettext_for,
    negotiate_language,
)
from i18n.catalogue import UnknownLanguage

NNBSP, NBSP = "\u202f", "\u00a0"   # French thousands separator, space before € and %


@pytest.mark.parametrize(("lang", "header", "default", "expected"), [
    ("en", "fr-FR,fr;q=0.9", "fr", "en"),              # ?lang wins over the browser
    ("EN-gb", None, "fr", "en"),
    ("de", "en-US,en;q=0.8", "fr", "en"),              # unknown ?lang: the browser decides
    (None, "fr-CA,fr;q=0.9,en;q=0.8", "en", "fr"),
    (None, "de-DE,de;q=0.9,en;q=0.5,fr;q=0.7", "en", "fr"),   # by quality, not by position
    (None, "en;q=0.2, fr;q=0", "fr", "en"),            # q=0 means "not this one"
    (None, "de, ja", "en", "en"),                      # nothing we speak: the default
    (None, "de, ja", "fr", "fr"),
    (None, "*", "en", "en"),
    (None, "", "fr", "fr"),
    (None, ";;,q=x,fr;q=abc, en", "fr", "en"),         # malformed parts are skipped
    ("", None, "en", "en"),
])
def test_negotiate_language(lang: str | None, header: str | None, default: str,
                            expected: str) -> None:
    assert negotiate_language(lang, header, default) == expected


def test_defaults_french_dashboard_english_api() -> None:
    assert (DASHBOARD_DEFAULT, API_DEFAULT) == ("fr", "en")
    assert negotiate_language() == "fr"


def test_money() -> None:
    assert format_money(310_500, "fr") == f"310{NNBSP}500{NBSP}€"
    assert format_money(310_500, "en") == "310,500"          # as the dashboard shows it
    assert format_money(15_460.2, "fr", decimals=2) == f"15{NNBSP}460,20{NBSP}€"
    assert format_money(15_460.2, "en", decimals=2) == "15,460.20"


def test_percent() -> None:
    assert format_percent(0.229, "fr") == f"22,9{NBSP}%"
    assert format_percent(0.229, "en") == "22.9%"
    assert format_percent(0.5, "en", decimals=0) == "50%"


def test_numbers() -> None:
    assert format_number(1_234_567.8, "fr") == f"1{NNBSP}234{NNBSP}568"
    assert format_number(1_234_567.8, "en", decimals=1) == "1,234,567.8"
    assert format_number(-0.25, "fr", decimals=2) == "-0,25"


def test_dates_are_shown_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 11, 30, 20, 5, tzinfo=paris)       # 19:05 UTC
    assert format_datetime(moment, "fr") == "30 nov. 2026, 19:05:00"
    assert format_datetime(moment, "en") == "Nov 30, 2026, 7:05:00\u202fPM"
    assert format_date(datetime(2026, 11, 30, 23, 30, tzinfo=paris), "fr") == "30 nov. 2026"
    assert format_date(date(2026, 11, 30), "en", width="long") == "November 30, 2026"
    with pytest.raises(ValueError, match="tz-aware"):
        format_datetime(datetime(2026, 11, 30, 19, 5), "fr")
    assert format_datetime(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "fr", "short") == \
        "02/01/2026 03:04"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnknownLanguage):
        format_money(1, "de")
    with pytest.raises(UnknownLanguage):
        gettext_for("de")


def test_a_domain_without_catalogue_yet_answers_the_msgid() -> None:
    # the dashboard domain may not be filled yet: its texts then stand for themselves
    assert gettext_for("fr", "dashboard")("Refuse") in ("Refuse", "Refusé")


def test_the_alerts_banner_agrees_with_its_count_in_both_languages() -> None:
    """One alert is 'la plus récente', not 'les 1 plus récentes' (seen on `make demo`)."""
    from markupsafe import Markup

    from dashboard.texts import Texts

    singular = "{title} — the most recent (Monitoring tab for details):"
    plural = "{title} — the {count} most recent (Monitoring tab for details):"
    title = Markup("<b>{}</b>").format("Alertes & co")
    fr, en = Texts("fr"), Texts("en")
    assert fr.nhtml(singular, plural, 1, title=title, count="1") == (
        "<b>Alertes &amp; co</b> — la plus récente (détails dans l’onglet Surveillance) :")
    assert "les 3 plus récentes" in fr.nhtml(singular, plural, 3, title=title, count="3")
    assert en.nhtml(singular, plural, 1, title=title, count="1").startswith(
        "<b>Alertes &amp; co</b> — the most recent")
    assert "<script>" not in en.nhtml(singular, plural, 2, title=title, count="<script>")
