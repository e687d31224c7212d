"""The alerts banner words drift, fairness and back-test alerts from their details in the page's
language; any other alert, or one whose details are missing or malformed, shows the message
the refresh recorded, marked as English."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from dashboard.pages.monitoring import alerts_banner
from dashboard.texts import texts
from tests.dashboard.serving_fixture import ALERT_DETAILS

NNBSP, NBSP = "\u202f", "\u00a0"   # French thousands separator, space before %
DRIFT, FAIRNESS, BACKTEST = (details for _, details in ALERT_DETAILS)


def banner(tmp_path: Path, lang: str, *alerts: tuple[str, str, Any]) -> str:
    """The banner's HTML over a warehouse whose serving.alerts holds `alerts` (kind, recorded
    message, details: a mapping written as JSON, or the JSON text as recorded)."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema serving")
        con.execute("create table serving.alerts (alert_id varchar, raised_at timestamptz, "
                    "kind varchar, severity varchar, message varchar, refresh_run_id varchar, "
                    "details json, webhook_delivery varchar)")
        for i, (kind, message, details) in enumerate(alerts):
            recorded = details if isinstance(details, str) or details is None \
                else json.dumps(details)
            con.execute("insert into serving.alerts values (?, timestamptz '2025-02-01 06:10+00' "
                        "+ to_minutes(?), ?, 'warning', ?, 'run', ?, null)",
                        [f"a{i}", i, kind, message, recorded])
    shown = alerts_banner(SimpleNamespace(warehouse=path), texts(lang))
    assert len(shown) == 1
    return str(shown[0].object)


def test_the_french_banner_words_drift_fairness_and_backtest_in_french(tmp_path: Path) -> None:
    html = banner(tmp_path, "fr", *(
        (kind, message, details) for kind, (message, details)
        in zip(("drift", "fairness", "backtest"), ALERT_DETAILS, strict=True)))
    assert ("dérive de la population : 1 signal à traiter et 2 signaux à surveiller ; "
            "PSI le plus élevé : application_ext_source_2 0,31 (entraînement)") in html
    assert (f"règle des quatre cinquièmes : taux d’accord inférieur à 80{NBSP}% de celui du "
            "meilleur groupe pour sexe : homme (0,72)") in html
    assert (f"contrôle a posteriori en échec (risque sous-estimé) : classe E (prédit "
            f"5,0{NBSP}%, observé 9,1{NBSP}% sur 1{NNBSP}234 clients, p = 0,002)") in html
    # worded in the page's language: nothing of it is marked as English any more
    assert "lang='en'" not in html
    for message, _ in ALERT_DETAILS:
        assert message not in html


def test_the_english_banner_words_them_from_the_same_details(tmp_path: Path) -> None:
    html = banner(tmp_path, "en", ("drift", "recorded drift", DRIFT),
                  ("fairness", "recorded fairness", FAIRNESS),
                  ("backtest", "recorded back-test", BACKTEST))
    assert ("population drift: 1 flag to act on and 2 flags to watch; largest PSI: "
            "application_ext_source_2 0.31 (training)") in html
    assert ("four-fifths rule: grant rate below 80% of the best group for gender: male (0.72)"
            ) in html
    assert ("back-test failed (risk under-estimated): band E (predicted 5.0%, observed 9.1% "
            "of 1,234 clients, p = 0.002)") in html
    assert "recorded" not in html and "lang=" not in html


def test_each_line_puts_kind_severity_and_time_before_the_sentence_in_the_page_s_style(
        tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir(), (tmp_path / "en").mkdir()
    fr = banner(tmp_path / "fr", "fr", ("drift", "recorded", DRIFT))
    en = banner(tmp_path / "en", "en", ("drift", "recorded", DRIFT))
    # French typography puts a space before the colon; English does not
    assert "<li><b>dérive</b> (avertissement, " in fr and ") : dérive de la population" in fr
    assert "<li><b>drift</b> (warning, " in en and "): population drift" in en


def test_without_act_flags_the_largest_watch_flags_are_named_largest_first(
        tmp_path: Path) -> None:
    flags = [{"reference": "previous_refresh", "feature_name": f"feature_{i}", "psi": psi,
              "flag": "watch"} for i, psi in enumerate((0.11, 0.24, 0.15, 0.2, 0.13, 0.12))]
    html = banner(tmp_path, "fr", ("drift", "recorded", {"flags": flags}))
    assert ("0 signal à traiter et 6 signaux à surveiller ; PSI les plus élevés : "
            "feature_1 0,24 (mise à jour précédente), feature_3 0,20 (mise à jour précédente), "
            "feature_2 0,15 (mise à jour précédente), feature_4 0,13 (mise à jour précédente), "
            "feature_5 0,12 (mise à jour précédente)") in html
    assert "feature_0" not in html


@pytest.mark.parametrize("details", [
    "{}", None, "\"a string\"", "[]", {"flags": []}, {"flags": "EXT_SOURCE_2"},
    {"flags": [{"reference": "training", "feature_name": "EXT_SOURCE_2", "flag": "act"}]},
    {"flags": [{"reference": "training", "feature_name": "EXT_SOURCE_2", "psi": "high",
                "flag": "act"}]},
    {"flags": [{"reference": "training", "feature_name": "EXT_SOURCE_2", "psi": None,
                "flag": "act"}]},
    {"groups": [{"attribute": "gender", "group": "male"}]},
], ids=str)
def test_details_missing_or_malformed_show_the_recorded_message_in_english(
        tmp_path: Path, details: Any) -> None:
    kind = "fairness" if isinstance(details, dict) and "groups" in details else "drift"
    recorded = "population drift: 1 act and 0 watch flags; largest PSI: EXT_SOURCE_2 0.31"
    for lang in ("fr", "en"):
        (tmp_path / lang).mkdir()
        html = banner(tmp_path / lang, lang, (kind, recorded, details))
        assert (f"<span lang='en'>{recorded}</span>" if lang == "fr" else f": {recorded}</li>"
                ) in html, lang


def test_a_failed_backtest_band_without_its_figures_falls_back_too(tmp_path: Path) -> None:
    band = {**BACKTEST["bands"][0], "clients": 12.5}
    html = banner(tmp_path, "fr", ("backtest", "back-test failed: band E", {"bands": [band]}))
    assert "<span lang='en'>back-test failed: band E</span>" in html


def test_error_alerts_stay_as_recorded_and_marked_english(tmp_path: Path) -> None:
    html = banner(tmp_path, "fr", ("refresh_failed", "refresh r failed: <boom>", {}),
                  ("decision_chain", "chain broken at line 3", {"line": 3}),
                  ("monitoring_failed", "history/alerts of run r not recorded: disk", {}))
    assert "<span lang='en'>refresh r failed: &lt;boom&gt;</span>" in html
    assert "<span lang='en'>chain broken at line 3</span>" in html
    assert "<b>échec de la surveillance</b>" in html


def test_data_in_a_worded_alert_is_escaped(tmp_path: Path) -> None:
    flags = [{"reference": "training", "feature_name": "<script>x</script>", "psi": 0.4,
              "flag": "act"}]
    html = banner(tmp_path, "fr", ("drift", "recorded", {"flags": flags}))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt; 0,40" in html
