"""The model card in French (default) and English, from the catalogue, on the real small
refresh: every text of the card has both languages, numbers follow the language."""
from __future__ import annotations

from pathlib import Path

import pytest

from i18n import translate
from models_ml.monitoring.model_card import CARD_KEYS, render_markdown, write_model_card
from warehouse.errors import BadInput

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def test_card_in_french_by_default_and_in_english(published: Path, tmp_path: Path) -> None:
    french, english = render_markdown(published), render_markdown(published, "en")
    for key in ("title", "use_h", "fairness_h", "policy_h", "limit_1", "scaling"):
        assert translate("card", key, "fr") in french, key
        assert translate("card", key, "en") in english, key
        assert translate("card", key, "fr") not in english, key
    assert "| OOF ROC AUC | 0," in french and "| OOF ROC AUC | 0." in english
    assert "\u00a0%" in french and "%" in english and "\u00a0%" not in english
    assert "refus si score ≤" in french and "refuse ≤" in english
    assert "Part des échéances payées en retard" in french   # a translated feature label
    out = write_model_card(published, tmp_path / "card.html", "en")
    assert '<html lang="en">' in out and (tmp_path / "card.html").read_text() == out


def test_every_card_key_has_both_languages() -> None:
    for key in CARD_KEYS:
        assert translate("card", key, "fr") != translate("card", key, "en") or key in (
            "log_loss",), key


def test_unknown_language_is_refused(published: Path) -> None:
    with pytest.raises(BadInput, match="--lang must be fr or en"):
        render_markdown(published, "de")
