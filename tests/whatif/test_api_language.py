"""The API speaks French and English over HTTP (real uvicorn server on the real small refresh):
reasons, labels, recourse sentences and error details follow `Accept-Language`, English when
it is absent or unknown; codes and field names never change; `Content-Language` says which.

Two servers: warmed (the explanation comes from the fast lane and its translated blocks) and
cold (FastAPI's routes)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from dashboard.bench import run_api
from i18n import format_money, translate
from models_ml.families import FAMILY_BY_CODE, TRANSLATED_FEATURES

pytestmark = [pytest.mark.slow, pytest.mark.dbt]
FR, EN = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}, {"Accept-Language": "en-GB"}


@pytest.fixture(scope="module", params=["warm", "cold"])
def api(request: pytest.FixtureRequest, published: Path) -> Iterator[httpx.Client]:
    env = {"PAD_API_WARM": "1" if request.param == "warm" else "0"}
    with run_api(published, env=env) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def _refused_pending(wcon: duckdb.DuckDBPyConnection) -> int:
    """A refused pending client with stored recourse options."""
    return wcon.execute("select min(sk_id_curr) from published.serving.client_recourse"
                        ).fetchone()[0]


def _with_reasons(wcon: duckdb.DuckDBPyConnection) -> int:
    return wcon.execute("select sk_id_curr from published.serving.client_reasons "
                        "group by 1 having count(*) >= 2 order by 1 limit 1").fetchone()[0]


def _codes(body: dict[str, Any]) -> dict[str, Any]:
    """Everything of an explanation but its texts."""
    return {"drivers": [(d["feature_name"], d["family"], d["points"]) for d in body["drivers"]],
            "families": [(f["family"], f["points"]) for f in body["families"]],
            "reasons": [(r["reason_code"], r["points"]) for r in body["reasons"]],
            "score": body["score"]}


def test_explanation_in_french_and_english(api: httpx.Client,
                                           wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr = _with_reasons(wcon)
    path = f"/clients/{sk_id_curr}/explanation"
    fr, en, default = api.get(path, headers=FR), api.get(path, headers=EN), api.get(path)
    assert fr.status_code == en.status_code == default.status_code == 200
    assert fr.headers["content-language"] == "fr"
    assert en.headers["content-language"] == default.headers["content-language"] == "en"
    assert "accept-language" in fr.headers["vary"].lower()
    french, english = fr.json(), en.json()
    assert default.json() == english and _codes(french) == _codes(english)
    for reason_fr, reason_en in zip(french["reasons"], english["reasons"], strict=True):
        code = reason_en["reason_code"]
        assert reason_en["reason_text"] == FAMILY_BY_CODE[code.lower()].reason_text
        assert reason_fr["reason_text"] == translate("reason", code, "fr")
        assert reason_fr["reason_text"] != reason_en["reason_text"]
    for family_fr, family_en in zip(french["families"], english["families"], strict=True):
        assert family_en["family_label"] == translate("family", family_en["family"], "en")
        assert family_fr["family_label"] == translate("family", family_fr["family"], "fr")
    for driver_fr, driver_en in zip(french["drivers"], english["drivers"], strict=True):
        name = driver_en["feature_name"]
        expected = translate("feature", name, "fr", default=driver_en["feature_label"])
        assert driver_fr["feature_label"] == expected
    assert any(d["feature_name"] in TRANSLATED_FEATURES for d in english["drivers"])


def test_unknown_language_is_english(api: httpx.Client, wcon: duckdb.DuckDBPyConnection
                                     ) -> None:
    path = f"/clients/{_with_reasons(wcon)}/explanation"
    got = api.get(path, headers={"Accept-Language": "de-DE, ja;q=0.5"})
    assert got.headers["content-language"] == "en"
    assert got.json() == api.get(path, headers=EN).json()


def test_stored_recourse_in_french_and_english(api: httpx.Client,
                                               wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr = _refused_pending(wcon)
    path = f"/clients/{sk_id_curr}/recourse"
    fr, en = api.get(path, headers=FR), api.get(path, headers=EN)
    assert fr.headers["content-language"] == "fr" and en.headers["content-language"] == "en"
    french, english = fr.json(), en.json()
    application = api.get(f"/clients/{sk_id_curr}/application").json()
    stored = dict(wcon.execute("select option_rank, text from published.serving.client_recourse "
                               "where sk_id_curr = ?", [sk_id_curr]).fetchall())
    assert english["options"] and [o["text"] for o in english["options"]] == \
        [stored[rank] for rank in sorted(stored)]
    for option_fr, option_en in zip(french["options"], english["options"], strict=True):
        assert {k: v for k, v in option_fr.items() if k != "text"} == \
            {k: v for k, v in option_en.items() if k != "text"}
        applied = application["annuity" if option_en["lever"] == "annuity" else "credit_amount"]
        decimals = 0 if float(applied).is_integer() else 2
        assert format_money(applied, "fr", decimals) in option_fr["text"], option_fr["text"]
        assert format_money(applied, "en", decimals) in option_en["text"], option_en["text"]
        assert "seuil" in option_fr["text"] and "cutoff" in option_en["text"]


def test_recourse_of_an_edited_application_in_french(api: httpx.Client,
                                                     wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr = _refused_pending(wcon)
    edits = {"own_car": True}
    fr = api.post(f"/clients/{sk_id_curr}/recourse", json={"edits": edits}, headers=FR)
    en = api.post(f"/clients/{sk_id_curr}/recourse", json={"edits": edits})
    assert fr.status_code == en.status_code == 200
    options_fr, options_en = fr.json()["options"], en.json()["options"]
    assert [o["edits"] for o in options_fr] == [o["edits"] for o in options_en]
    for option in options_fr:
        assert "serait accordé" in option["text"] and "\u202f" in option["text"]


def test_what_if_texts_follow_the_language(api: httpx.Client,
                                           wcon: duckdb.DuckDBPyConnection) -> None:
    sk_id_curr = _with_reasons(wcon)
    body = {"edits": {"children": 0}}
    fr = api.post(f"/clients/{sk_id_curr}/what-if", json=body, headers=FR).json()
    en = api.post(f"/clients/{sk_id_curr}/what-if", json=body, headers=EN).json()
    assert _codes(fr) == _codes(en)
    assert [r["reason_text"] for r in fr["reasons"]] == \
        [translate("reason", r["reason_code"], "fr") for r in en["reasons"]]


def test_error_details_follow_the_language(api: httpx.Client,
                                           wcon: duckdb.DuckDBPyConnection) -> None:
    missing = wcon.execute("select max(sk_id_curr) + 1 from published.serving.clients"
                           ).fetchone()[0]
    for path in (f"/clients/{missing}", f"/clients/{missing}/explanation",
                 f"/clients/{missing}/recourse"):
        fr, en = api.get(path, headers=FR), api.get(path, headers=EN)
        assert fr.status_code == en.status_code == 404, path
        assert fr.json() == {"detail": f"client {missing} introuvable"}, path
        assert en.json()["detail"].startswith(f"client {missing}"), path
        assert fr.headers["content-language"] == "fr"
    sk_id_curr = _with_reasons(wcon)
    # an edit within the field's own bounds that breaks a rule between fields: the lookup's
    # check (FastAPI's validation of each field answers its own list of English errors)
    bad = {"edits": {"credit_amount": 2000, "annuity": 3000}}
    fr = api.post(f"/clients/{sk_id_curr}/what-if", json=bad, headers=FR)
    en = api.post(f"/clients/{sk_id_curr}/what-if", json=bad)
    assert fr.status_code == en.status_code == 422
    assert fr.json()["detail"] == \
        "annuity : l'échéance ne peut pas dépasser le montant du crédit (2\u202f000)"
    assert en.json()["detail"] == "annuity: must not exceed the credit amount (2,000)"


def test_lookup_errors_follow_the_language(api: httpx.Client,
                                           wcon: duckdb.DuckDBPyConnection) -> None:
    # the lookup's own check of a feature name (the API's validation answers the others first)
    path = f"/clients/{_with_reasons(wcon)}/comparison?feature=nope"
    fr, en = api.get(path, headers=FR), api.get(path, headers=EN)
    assert fr.status_code == en.status_code == 422, fr.text
    assert fr.json()["detail"] == "variable inconnue 'nope' : GET /features les liste"
    assert en.json()["detail"] == "unknown feature 'nope': GET /features lists them"
