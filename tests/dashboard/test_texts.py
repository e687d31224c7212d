"""The dashboard's words and formats in French and English (dashboard.texts), and errors of
the layers below shown in the reader's language."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.formatting import badge, language_switch_html
from dashboard.lookup import InvalidRequest
from dashboard.pages.client_parts import decision_sentence
from dashboard.pages.decisions import refused_entry
from dashboard.pages.selfview import self_summary_html
from dashboard.pages.whatif import edit_error
from dashboard.schemas import ClientScore
from dashboard.texts import session_language, texts
from models_ml.whatif import EditError
from warehouse.decisions import InvalidDecision

NBSP, NNBSP = "\u00a0", "\u202f"


def test_numbers_money_and_percentages_follow_the_language() -> None:
    fr, en = texts("fr"), texts("en")
    assert fr.money(310500) == f"310{NNBSP}500{NBSP}€" and en.money(310500) == "310,500"
    assert fr.percent(0.229) == f"22,9{NBSP}%" and en.percent(0.229) == "22.9%"
    assert fr.significant(0.1234) == "0,123" and en.significant(12345.6) == "12,346"
    assert fr.value("Married") == "Marié(e)" and en.value("Married") == "Married"
    assert fr.value("Industry: type 3") == "Industrie, type 3"
    assert fr.value("XNA") == "inconnu" and en.value(None) == "unknown"


@pytest.mark.parametrize(("lang", "refuse", "grant"), [("fr", "Refusé", "Accordé"),
                                                      ("en", "Refuse", "Grant")])
def test_the_decision_badge_words(lang: str, refuse: str, grant: str) -> None:
    assert f"✗ {refuse}</span>" in badge("refuse", texts(lang))
    assert f"✓ {grant}</span>" in badge("grant", texts(lang))


def test_language_from_the_url_then_the_browser_then_french() -> None:
    assert session_language("en", "fr-FR,fr;q=0.9") == "en"
    assert session_language(None, "en-GB,en;q=0.8") == "en"
    assert session_language(None, "de-DE,de;q=0.9") == "fr"
    assert session_language("xx", None) == "fr"


def test_the_switch_keeps_the_query_and_changes_the_language() -> None:
    switch = language_switch_html(texts("fr"), {"client": "100012", "view": "",
                                                "page": "comparison"})
    assert "href='?client=100012&amp;page=comparison&amp;lang=en'" in switch
    assert "aria-current='true' lang='fr'>Français" in switch


def test_errors_of_the_lower_layers_in_the_readers_language() -> None:
    edit = InvalidRequest(EditError("contract_type", "null").args[0])
    french, english = edit_error(edit, texts("fr")), edit_error(edit, texts("en"))
    assert french.startswith("Ce changement ne peut pas être simulé : contract_type")
    assert english.startswith("This change cannot be simulated: contract_type") and \
        french != english.replace("This change cannot be simulated", "Ce changement ne peut "
                                  "pas être simulé")
    rule = InvalidDecision("decision_client_contests")
    assert refused_entry(rule, texts("fr")) == ("Le registre des décisions a refusé cette "
                                               "entrée : un client peut seulement contester "
                                               "une décision")


def _score(points: int, cutoff: float) -> ClientScore:
    return ClientScore(sk_id_curr=100002, model_version="v", probability_default=0.1,
                       score=points, decision="grant" if points > cutoff else "refuse",
                       threshold=0.1, score_cutoff=cutoff, risk_band="C",
                       scored_at=datetime(2026, 11, 30, tzinfo=UTC))


@pytest.mark.parametrize(("lang", "one", "two"), [
    ("fr", "Il manque 1 point pour", "Il manque 2 points pour"),
    ("en", "1 point short of", "2 points short of")])
def test_one_point_is_singular_on_the_advisor_page(lang: str, one: str, two: str) -> None:
    tr = texts(lang)
    assert decision_sentence(_score(553, 553), tr).startswith(one)
    assert decision_sentence(_score(552, 553), tr).startswith(two)
    assert "1 points" not in decision_sentence(_score(554, 553), tr)


@pytest.mark.parametrize(("lang", "short", "clear"), [
    ("fr", "il manque 1 point à la vôtre", "a donc 1 point d’avance"),
    ("en", "yours is 1 point short", "yours is 1 point clear")])
def test_one_point_is_singular_in_the_client_view(lang: str, short: str, clear: str) -> None:
    tr = texts(lang)
    assert short in self_summary_html(_score(553, 553), tr)
    assert clear in self_summary_html(_score(554, 553), tr)


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", ["1 point", "-1 point", "0 point", "2 points", "1,5 points"]),
    ("en", ["1 point", "-1 point", "0 points", "2 points", "1.5 points"])])
def test_points_take_the_number_of_their_value(lang: str, words: list[str]) -> None:
    tr = texts(lang)
    shown = [tr.in_points(v, tr.number(v) if v != 1.5 else ("1,5" if lang == "fr" else "1.5"))
             for v in (1, -1, 0, 2, 1.5)]
    assert [s.replace("\u2212", "-") for s in shown] == words
