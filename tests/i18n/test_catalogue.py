"""The message catalogue is complete: every message the code asks for has a French and an
English text, every code (reason, family, lever, translated feature) has an entry, and
translations fill the same placeholders as the English."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from i18n import LANGUAGES, has_text, translate
from i18n.catalogue import LOCALE_DIR, po_path, read_catalog
from i18n.maintain import (
    extract,
    mapping_file,
    mismatched_placeholders,
    missing_translations,
)
from models_ml.families import FAMILIES, TRANSLATED_FEATURES
from models_ml.recourse import LEVERS, TEXT_KEYS

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = [d for d in ("pad", "dashboard") if mapping_file(d).is_file()]


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=lang)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Catalog]:
    """Templates extracted afresh from the code (not the committed .pot, which may lag)."""
    out = tmp_path_factory.mktemp("pot")
    found = {}
    for domain in DOMAINS:
        extract(domain, out / f"{domain}.pot", ROOT)
        found[domain] = _read(out / f"{domain}.pot")
    return found


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_extracted_message_is_translated(templates: dict[str, Catalog], domain: str,
                                               lang: str) -> None:
    template = templates[domain]
    assert len([m for m in template if m.id]) > 0
    assert missing_translations(template, _read(po_path(lang, domain), lang)) == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_fill_the_english_placeholders(domain: str) -> None:
    english = _read(po_path("en", domain), "en")
    for lang in LANGUAGES:
        assert mismatched_placeholders(english, _read(po_path(lang, domain), lang)) == []


def test_the_check_fails_when_a_translation_is_removed(templates: dict[str, Catalog],
                                                      tmp_path: Path) -> None:
    copy = tmp_path / "pad.po"
    shutil.copy(po_path("fr", "pad"), copy)
    catalog = _read(copy, "fr")
    catalog.delete("LATE_PAYMENTS", context="reason")
    catalog.get("credit_amount", context="recourse").string = ""
    catalog.get("inst_late_rate", context="feature").flags.add("fuzzy")
    assert sorted(missing_translations(templates["pad"], catalog)) == [
        "feature|inst_late_rate: fuzzy", "reason|LATE_PAYMENTS: no translation",
        "recourse|credit_amount: no translation"]


def test_a_dropped_placeholder_is_reported() -> None:
    english, french = _read(po_path("en", "pad"), "en"), _read(po_path("fr", "pad"), "fr")
    french.get("credit_amount", context="recourse").string = "Un crédit plus petit."
    assert mismatched_placeholders(english, french) == [
        "recourse|credit_amount: [] ≠ ['applied_credit', 'credit_amount', 'cutoff', 'score']"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_code_has_a_text(lang: str) -> None:
    codes = ([("family", f.code) for f in FAMILIES]
             + [("reason", f.reason_code) for f in FAMILIES if not f.protected]
             + [("recourse", key) for key in TEXT_KEYS]
             + [("feature", name) for name in TRANSLATED_FEATURES])
    assert {key for _, key in codes} >= set(LEVERS)
    assert len(TRANSLATED_FEATURES) == len(set(TRANSLATED_FEATURES)) == 30
    assert [c for c in codes if not has_text(*c, lang)] == []


def test_protected_families_have_no_reason_text() -> None:
    for family in FAMILIES:
        assert has_text("reason", family.reason_code, "en") != family.protected, family.code


def test_french_texts_are_not_the_english_ones() -> None:
    english, french = read_catalog("en"), read_catalog("fr")
    same = [m.id for m in english if m.id and french.get(m.id, context=m.context).string
            == m.string and m.context != "recourse"]
    # a label may legitimately read the same in both languages; the reasons never do
    assert not [key for key in same if key.isupper()], same


def test_a_missing_code_is_an_error_unless_a_default_is_given() -> None:
    with pytest.raises(KeyError, match="no fr text for reason 'NO_SUCH_CODE'"):
        translate("reason", "NO_SUCH_CODE", "fr")
    assert translate("feature", "no_such_feature", "fr", default="Label") == "Label"


def test_no_compiled_catalogue_is_committed() -> None:
    assert not list(LOCALE_DIR.rglob("*.mo"))
