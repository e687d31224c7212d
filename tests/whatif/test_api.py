"""The what-if and recourse routes over the API app, on the real small refresh."""
from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.api import create_app
from dashboard.lookup import Lookup
from models_ml.whatif import FIELDS, candidates_table, read_whatif_model

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


@pytest.fixture(scope="module")
def api(published: Path) -> Iterator[TestClient]:
    with TestClient(create_app(published)) as client:
        yield client


def client_ids(wcon: duckdb.DuckDBPyConnection, where: str, limit: int = 10**6) -> list[int]:
    return [r[0] for r in wcon.execute(
        "select sk_id_curr from published.serving.clients c "
        f"join published.serving.client_scores s using (sk_id_curr) where {where} "
        f"order by sk_id_curr limit {limit}").fetchall()]


def test_unedited_what_if_is_the_published_explanation(api: TestClient,
                                                       wcon: duckdb.DuckDBPyConnection) -> None:
    for sk_id_curr in client_ids(wcon, "true")[:5]:
        got = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": {}})
        assert got.status_code == 200, got.text
        body = got.json()
        explanation = api.get(f"/clients/{sk_id_curr}/explanation").json()
        score = api.get(f"/clients/{sk_id_curr}/score").json()
        assert body["score"] == score["score"] == body["published"]["score"]
        assert body["decision"] == score["decision"] and body["delta_points"] == 0
        assert math.isclose(body["probability_default"], score["probability_default"],
                            abs_tol=1e-12)
        assert [d["feature_name"] for d in body["drivers"]] == \
            [d["feature_name"] for d in explanation["drivers"]]
        assert [r["reason_code"] for r in body["reasons"]] == \
            [r["reason_code"] for r in explanation["reasons"]]
        assert math.isclose(body["base_points"] + sum(f["points"] for f in body["families"]),
                            explanation["base_points"] + sum(
                                f["points"] for f in explanation["families"]), abs_tol=1e-6)


def test_an_edit_changes_the_score_and_nothing_is_written(api: TestClient, published: Path,
                                                          wcon: duckdb.DuckDBPyConnection
                                                          ) -> None:
    before = published.stat().st_mtime_ns, published.stat().st_size
    [sk_id_curr] = client_ids(wcon, "s.decision = 'refuse' and c.credit_amount > 20000",
                              limit=1)
    app = api.get(f"/clients/{sk_id_curr}/application").json()
    edits = {"credit_amount": 10_000.0, "annuity": 1_000.0, "goods_price": 9_000.0,
             "years_employed": None, "own_realty": True}
    got = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": edits})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["edits"] == edits and app["credit_amount"] > 10_000
    assert body["delta_points"] == body["score"] - body["published"]["score"]
    assert body["delta_points"] != 0
    assert (published.stat().st_mtime_ns, published.stat().st_size) == before


@pytest.mark.parametrize("edits, field", [
    ({"age_years": 30}, "age_years"),
    ({"ext_source_1": 0.9}, "ext_source_1"),
    ({"credit_amount": 999}, "credit_amount"),
    ({"credit_amount": 5_000_001}, "credit_amount"),
    ({"credit_amount": None}, "credit_amount"),
    ({"credit_amount": "lots"}, "credit_amount"),
    ({"annuity": 99}, "annuity"),
    ({"income": 1e300}, "income"),
    ({"years_employed": 61}, "years_employed"),
    ({"children": 2.5}, "children"),
    ({"family_members": 0}, "family_members"),
    ({"contract_type": "Mortgage"}, "contract_type"),
    ({"own_car": "maybe"}, "own_car"),
])
def test_bad_edits_are_422_naming_the_field(api: TestClient, wcon: duckdb.DuckDBPyConnection,
                                            edits: dict, field: str) -> None:
    [sk_id_curr] = client_ids(wcon, "true", limit=1)
    for route in ("what-if", "recourse"):
        got = api.post(f"/clients/{sk_id_curr}/{route}", json={"edits": edits})
        assert got.status_code == 422, got.text
        assert field in got.text


def test_client_dependent_bounds_are_422(api: TestClient,
                                         wcon: duckdb.DuckDBPyConnection) -> None:
    [sk_id_curr] = client_ids(wcon, "c.credit_amount < 400000", limit=1)
    app = api.get(f"/clients/{sk_id_curr}/application").json()
    for edits, field in (({"credit_amount": app["credit_amount"] * 10 + 1000}, "credit_amount"),
                         ({"annuity": app["credit_amount"] + 1}, "annuity"),
                         ({"goods_price": app["credit_amount"] * 10 + 1}, "goods_price"),
                         ({"children": 5, "family_members": 5}, "family_members")):
        got = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": edits})
        assert got.status_code == 422 and field in got.json()["detail"], (edits, got.text)


def test_unknown_client_and_body_shape(api: TestClient) -> None:
    assert api.post("/clients/1/what-if", json={"edits": {}}).status_code == 404
    assert api.get("/clients/1/recourse").status_code == 404
    assert api.post("/clients/1/what-if", json={"edit": {}}).status_code == 422


def test_recourse_options_applied_through_the_what_if_grant(
        api: TestClient, wcon: duckdb.DuckDBPyConnection) -> None:
    pending = client_ids(wcon, "s.decision = 'refuse' and c.population = 'pending'")[:4]
    history = client_ids(wcon, "s.decision = 'refuse' and c.population = 'history'")[:3]
    seen = 0
    for sk_id_curr in pending + history:
        body = api.get(f"/clients/{sk_id_curr}/recourse").json()
        assert body["decision"] == "refuse"
        assert body["reachable"] == bool(body["options"]) and len(body["options"]) <= 3
        for option in body["options"]:
            assert set(option["edits"]) <= set(FIELDS)
            got = api.post(f"/clients/{sk_id_curr}/what-if",
                           json={"edits": option["edits"]}).json()
            assert got["decision"] == "grant" and got["score"] == option["score"], option
            assert f"score {option['score']}" in option["text"]
            seen += 1
    assert seen > 0
    granted = client_ids(wcon, "s.decision = 'grant'", limit=1)[0]
    assert api.get(f"/clients/{granted}/recourse").json() == {
        "sk_id_curr": granted, "model_version": body["model_version"], "decision": "grant",
        "options": [], "reachable": False}


def test_recourse_of_an_edited_application_starts_from_the_edits(
        api: TestClient, wcon: duckdb.DuckDBPyConnection) -> None:
    [sk_id_curr] = client_ids(wcon, "s.decision = 'grant' and c.credit_amount < 400000",
                              limit=1)
    app = api.get(f"/clients/{sk_id_curr}/application").json()
    edits = {"credit_amount": app["credit_amount"] * 9, "income": 1_000.0}
    what_if = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": edits}).json()
    body = api.post(f"/clients/{sk_id_curr}/recourse", json={"edits": edits}).json()
    assert body["decision"] == what_if["decision"]
    for option in body["options"]:
        assert option["edits"]["income"] == 1_000.0  # the edits carried into every option
        got = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": option["edits"]})
        assert got.json()["decision"] == "grant"


json_values = st.recursive(
    # (JSON carries no NaN or infinity: the client cannot send them)
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=5)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.sampled_from([*FIELDS, "age", ""]), json_values, max_size=4))
def test_no_edit_a_fuzzer_sends_is_a_500(api: TestClient, wcon: duckdb.DuckDBPyConnection,
                                         edits: dict) -> None:
    sk_id_curr = client_ids(wcon, "true", limit=1)[0]
    got = api.post(f"/clients/{sk_id_curr}/what-if", json={"edits": edits})
    assert got.status_code in (200, 422), (edits, got.text)


def reachable_refused(wcon: duckdb.DuckDBPyConnection) -> list[int]:
    """A refused pending client whom the batch recourse found an option for."""
    return [r[0] for r in wcon.execute(
        "select min(sk_id_curr) from published.serving.client_recourse").fetchall()]


def test_a_decision_on_an_edited_application_records_the_simulated_score(
        published: Path, wcon: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from warehouse.decisions import DecisionStore

    [refused] = reachable_refused(wcon)
    store = DecisionStore(f"sqlite:///{tmp_path / 'decisions.sqlite'}")
    app = create_app(published, decisions=store, advisors={"tok-alice-123": "alice"})
    with TestClient(app) as api:
        option = api.get(f"/clients/{refused}/recourse").json()["options"][0]
        simulated = api.post(f"/clients/{refused}/what-if",
                             json={"edits": option["edits"]}).json()
        entry = api.post(f"/clients/{refused}/decisions",
                         json={"kind": "issued", "what_if_edits": option["edits"]},
                         headers={"Authorization": "Bearer tok-alice-123"})
        assert entry.status_code == 201, entry.text
        body = entry.json()
        assert (body["decision"], body["score"]) == ("grant", simulated["score"])
        assert body["probability_default"] == pytest.approx(simulated["probability_default"])
        assert body["what_if_edits"] == option["edits"]
        published_score = api.get(f"/clients/{refused}/score").json()
        assert published_score["decision"] == "refuse"   # the published warehouse is unchanged
    store.close()


def test_the_decision_notice_says_what_it_would_take(wlookup, wcon: duckdb.DuckDBPyConnection
                                                     ) -> None:
    from dashboard.pages.decisions import recourse_texts
    from dashboard.texts import texts
    from dashboard.whatif_source import whatif_source

    [refused] = reachable_refused(wcon)
    expected = [o.text for o in whatif_source(wlookup).recourse(refused).options]
    assert expected and recourse_texts(wlookup, refused, texts("en")) == expected


def test_a_publish_brings_the_new_snapshots_published_features(
        published: Path, tmp_path: Path, wcon: duckdb.DuckDBPyConnection) -> None:
    """The published features held in memory belong to one snapshot: after a publish, a
    what-if reads the new file's values (here the client's strongest unedited driver set to
    missing, the first of them by |SHAP| whose missing value moves the score: a tree may send
    missing values the client's way), as the batch path on that file computes them."""
    [sk_id_curr] = client_ids(wcon, "s.decision = 'refuse'", limit=1)
    engine = read_whatif_model(wcon.cursor(), "published.serving.whatif_model")
    path, body = f"/clients/{sk_id_curr}/what-if", {"edits": {"children": 0}}
    ids = np.array([sk_id_curr], dtype=np.int64)
    _, published_X = engine.features(wcon.cursor(), candidates_table(ids, ids, [body["edits"]]),
                                     "published")
    drivers = [r[0] for r in wcon.execute(
        "select feature_name from published.serving.client_drivers where sk_id_curr = ? "
        "and feature_name in (select unnest(?)) order by abs(shap_value) desc",
        [sk_id_curr, engine.kept]).fetchall()]
    feature = first_feature_whose_missing_value_moves(engine, published_X, drivers)
    served = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, served)
    changed = tmp_path / "next.duckdb"
    shutil.copyfile(published, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(f'update marts.client_features set "{feature}" = null '
                    "where sk_id_curr = ?", [sk_id_curr])
    with TestClient(create_app(served)) as client:
        before = client.post(path, json=body).json()
        os.replace(changed, served)
        after = client.post(path, json=body).json()
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{served}' as published (read_only)")
    keys, X = engine.features(con.cursor(), candidates_table(ids, ids, [body["edits"]]),
                              "published")
    expected = engine.explain_rows(keys, X).scores.column("probability_default")[0].as_py()
    assert after["probability_default"] == pytest.approx(expected, abs=1e-12)
    assert after["probability_default"] != pytest.approx(before["probability_default"],
                                                         abs=1e-12)


def first_feature_whose_missing_value_moves(engine, X: np.ndarray, drivers: list[str]) -> str:
    """The first of `drivers` that, set to missing in the client's row X, changes its log-odds."""
    position = {f: j for j, f in enumerate(engine.model.features)}
    for feature in drivers:
        edited = X.copy()
        edited[:, position[feature]] = np.nan
        if engine.log_odds(edited)[0] != engine.log_odds(X)[0]:
            return feature
    raise AssertionError("no driver of the client moves its score when missing")


def test_the_features_are_read_in_a_private_instance_of_the_snapshots_file(
        published: Path, tmp_path: Path) -> None:
    """The big read goes through a DuckDB instance of its own on the same file (its buffers
    go with it), and never through a file published since."""
    served = tmp_path / "warehouse.duckdb"
    shutil.copyfile(published, served)
    lookup = Lookup(served)
    try:
        with lookup.snapshots.session() as (snap, cur):
            with lookup.snapshots.private_reader(snap) as reader:
                assert reader is not None and reader is not snap.con
                count = "select count(*) from published.marts.client_features"
                assert reader.execute(count).fetchone() == cur.execute(count).fetchone()
            shutil.copyfile(published, tmp_path / "next.duckdb")
            os.replace(tmp_path / "next.duckdb", served)
            with lookup.snapshots.private_reader(snap) as reader:
                assert reader is None
    finally:
        lookup.close()
