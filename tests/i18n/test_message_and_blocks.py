"""Coded messages (an exception's text in any language) and the explanation blocks' text
columns, translated once per block and language under the active language."""
from __future__ import annotations

import pickle

import duckdb
import pytest

from dashboard.blocks import load_block
from i18n import Message, active_language, localize, translate, using_language
from i18n.catalogue import UnknownLanguage
from models_ml.whatif import EditError, validate_edits


def test_a_message_reads_english_and_renders_french() -> None:
    message = Message("error", "edit_range", field="income", low=1000, high=100_000_000)
    assert message == "income: must be between 1,000 and 100,000,000"
    assert str(ValueError(message)) == message
    assert localize(message, "fr") == \
        "income : doit être compris entre 1\u202f000 et 100\u202f000\u202f000"
    assert localize("plain text", "fr") == "plain text"
    assert pickle.loads(pickle.dumps(message)).in_language("fr") == localize(message, "fr")


def test_edit_errors_are_coded() -> None:
    with pytest.raises(EditError) as caught:
        validate_edits({"age_years": 30}, {"credit_amount": 1000.0})
    assert str(caught.value) == "age_years: not an editable field"
    assert localize(caught.value.args[0], "fr") == \
        "age_years : ce champ ne peut pas être modifié"


def test_active_language_is_scoped() -> None:
    assert active_language() is None
    with using_language("fr"):
        assert active_language() == "fr"
    assert active_language() is None
    with pytest.raises(UnknownLanguage), using_language("de"):
        pass


def test_block_text_columns_follow_the_active_language() -> None:
    con = duckdb.connect()
    con.execute("""create table t as select * from (values
        (1, 'inst_late_rate', 'Instalments: late (rate)', 'late_payments', 'Late payments',
         'LATE_PAYMENTS', 'Late payments on previous instalments'),
        (1, 'some_new_feature', 'Application: some new feature', 'mystery', 'Mystery', 'MYSTERY',
         'A reason the catalogue lacks'),
        (2, 'inst_late_rate', 'Instalments: late (rate)', 'late_payments', 'Late payments',
         'LATE_PAYMENTS', 'Late payments on previous instalments'))
        v(sk_id_curr, feature_name, feature_label, family, family_label, reason_code,
          reason_text)""")
    block = load_block(con, "select * from t where sk_id_curr between $1 and $2 "
                            "order by sk_id_curr, feature_name", 1, 2)
    english = block.rows(1)
    assert english["feature_label"] == ["Instalments: late (rate)",
                                        "Application: some new feature"]
    with using_language("fr"):
        french = block.rows(1)
        labels = block.translated[("feature_label", "fr")]
        assert block.rows(2)["feature_label"] == [translate("feature", "inst_late_rate", "fr")]
        assert block.translated[("feature_label", "fr")] is labels     # made once
    assert french["feature_label"] == [translate("feature", "inst_late_rate", "fr"),
                                       "Application: some new feature"]   # no entry: English
    assert french["family_label"] == [translate("family", "late_payments", "fr"), "Mystery"]
    assert french["reason_text"] == [translate("reason", "LATE_PAYMENTS", "fr"),
                                     "A reason the catalogue lacks"]
    assert french["feature_name"] == english["feature_name"]          # codes never change
    assert block.rows(1) == english                                  # none active: English
