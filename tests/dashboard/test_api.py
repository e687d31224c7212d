"""The HTTP lookup API: contract shapes, status codes, hostile input, no warehouse, the token."""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # starlette's TestClient warns that it wants httpx2 some day; it works with httpx today
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from dashboard.api import check_binding, create_app
from tests.dashboard.conftest import SampleIds
from warehouse.errors import BadInput

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client(warehouse_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(warehouse_path)) as c:
        yield c


@pytest.fixture(scope="module")
def feature(client: TestClient) -> str:
    return client.get("/features").json()["items"][0]["feature_name"]


def test_routes_run_in_a_small_thread_pool(warehouse_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio.to_thread

    monkeypatch.setenv("PAD_API_THREADS", "3")
    with TestClient(create_app(warehouse_path)) as c:
        assert c.get("/health").status_code == 200
        tokens = c.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 3


def test_the_api_loads_the_warehouse_before_serving(warehouse_path: Path) -> None:
    for warm in (True, False):
        app = create_app(warehouse_path, warm=warm)
        with TestClient(app):
            snapshot = app.state.lookup.snapshots.current
            loaded = snapshot is not None and any(k.startswith("block:") for k in snapshot.cache)
        assert loaded is warm


def test_fast_lane_answers_exactly_as_the_routes(warehouse_path: Path, ids: SampleIds) -> None:
    """The hot client routes answered by the fast lane (warm app) and by FastAPI (cold app):
    same status, same bytes; requests the lane does not take still get FastAPI's answers."""
    paths = [f"/clients/{cid}{suffix}" for cid in (ids.granted, ids.refused, ids.pending,
                                                    ids.missing)
             for suffix in ("", "/score", "/explanation", "/similar", "/similar?k=3",
                            "/similar?k=50", "/similar?k=51", "/similar?k=0", "/score?x=1")]
    paths += ["/clients/0", "/clients/9223372036854775808", "/clients/-1", "/clients/007",
              f"/clients/{ids.history}/similar?k=", f"/clients/{ids.history}/scatter"]
    warm_app, cold_app = create_app(warehouse_path, warm=True), create_app(warehouse_path,
                                                                           warm=False)
    with TestClient(warm_app) as warm, TestClient(cold_app) as cold:
        assert warm_app.state.lookup.is_warm() and not cold_app.state.lookup.is_warm()
        for path in paths:
            fast, slow = warm.get(path), cold.get(path)
            assert (fast.status_code, fast.content) == (slow.status_code, slow.content), path
            assert fast.headers["content-type"] == slow.headers["content-type"], path


def test_health_and_docs(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/health", "/clients", "/clients/{sk_id_curr}", "/clients/{sk_id_curr}/score",
                  "/clients/{sk_id_curr}/explanation", "/clients/{sk_id_curr}/comparison",
                  "/clients/{sk_id_curr}/similar", "/model"):
        assert route in paths


def test_contract_shapes(client: TestClient, ids: SampleIds, feature: str) -> None:
    page = client.get("/clients", params={"limit": 3}).json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert set(page["items"][0]) == {"sk_id_curr", "population", "decision", "score",
                                     "risk_band"}
    assert page["limit"] == 3 and page["offset"] == 0 and len(page["items"]) == 3

    record = client.get(f"/clients/{ids.history}").json()
    assert record["sk_id_curr"] == ids.history and record["population"] == "history"
    assert {"age_years", "income", "credit_amount", "previous_refused"} <= set(record)

    score = client.get(f"/clients/{ids.refused}/score").json()
    assert set(score) >= {"sk_id_curr", "model_version", "probability_default", "score",
                          "decision", "threshold", "score_cutoff", "risk_band", "scored_at"}
    assert score["decision"] == "refuse"

    explanation = client.get(f"/clients/{ids.granted}/explanation").json()
    assert set(explanation) >= {"sk_id_curr", "model_version", "base_value", "score", "drivers",
                                "families", "reasons"}
    assert set(explanation["drivers"][0]) == {"rank", "feature_name", "feature_label", "family",
                                              "feature_value", "shap_value", "points"}

    comparison = client.get(f"/clients/{ids.granted}/comparison",
                            params={"feature": feature, "group": "outcome"}).json()
    assert set(comparison) == {"feature_name", "feature_label", "client_value", "bins"}
    assert set(comparison["bins"][0]) == {"bin_low", "bin_high", "clients", "group"}

    similar = client.get(f"/clients/{ids.pending}/similar", params={"k": 5}).json()
    assert len(similar["items"]) == 5
    assert set(similar["items"][0]) == {"sk_id_curr", "distance", "target", "score", "decision"}

    model = client.get("/model").json()
    assert model["is_champion"] is True
    assert {"model_version", "oof_auc", "threshold", "importance", "score_scaling"} <= set(model)
    assert {"offset", "factor", "pdo"} <= set(model["score_scaling"])


def test_dashboard_routes(client: TestClient, ids: SampleIds, feature: str) -> None:
    for path in ("/features", "/portfolio", "/model/curves", "/model/runs", "/refresh-runs",
                 f"/clients/{ids.history}/scatter?x={feature}&y={feature}"):
        assert client.get(path).status_code == 200, path


def test_search_filters(client: TestClient, ids: SampleIds) -> None:
    prefix = str(ids.refused)[:3]
    body = client.get("/clients", params={"q": prefix, "decision": "refuse", "limit": 1000}).json()
    assert body["items"] and all(str(i["sk_id_curr"]).startswith(prefix) and
                                 i["decision"] == "refuse" for i in body["items"])
    assert client.get("/clients", params={"q": ""}).status_code == 200


TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _timestamps(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, text) of every string in a JSON document that looks like a date and time."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _timestamps(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _timestamps(v, key)
    elif isinstance(value, str) and TIMESTAMP.match(value):
        yield key, value


def test_every_timestamp_served_is_utc_rfc3339(client: TestClient, ids: SampleIds) -> None:
    found: dict[str, str] = {}
    for path in ("/health", "/model", "/model/runs", "/refresh-runs",
                 f"/clients/{ids.history}", f"/clients/{ids.refused}/score"):
        response = client.get(path)
        assert response.status_code == 200, path
        for key, text in _timestamps(response.json()):
            found[f"{path} {key}"] = text
            # RFC 3339 (format: date-time): a 'T', and an offset, which must be UTC's
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                                text), (path, key, text)
            parsed = datetime.fromisoformat(text)
            assert parsed.utcoffset() == timedelta(0), (path, key, text)
    keys = {entry.split()[-1] for entry in found}
    assert {"published_at", "trained_at", "scored_at", "started_at", "finished_at"} <= keys


@pytest.mark.parametrize("suffix", ["", "/score", "/explanation", "/similar",
                                    "/comparison?feature=FEATURE", "/scatter?x=FEATURE&y=FEATURE"])
def test_unknown_client_is_404(client: TestClient, ids: SampleIds, feature: str,
                               suffix: str) -> None:
    response = client.get(f"/clients/{ids.missing}{suffix.replace('FEATURE', feature)}")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


HOSTILE_IDS = ["abc", "-1", "1.5", "1e3", "99999999999999999999999999", "9223372036854775808",
               "%27%20or%201=1", "1;drop table clients", "0x10", "%00", "１２"]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_malformed_ids_are_422(client: TestClient, bad: str) -> None:
    for suffix in ("", "/score", "/explanation", "/similar"):
        response = client.get(f"/clients/{bad}{suffix}")
        assert response.status_code == 422, (bad, suffix, response.text)


@pytest.mark.parametrize("params", [
    {"limit": -1}, {"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"offset": -1},
    {"offset": "99999999999999999999999"}, {"q": "12a"}, {"q": "' or '1'='1"},
    {"q": "1" * 20}, {"q": "1%"}, {"population": "everyone"}, {"decision": "maybe"},
    {"risk_band": "Z"}, {"risk_band": "a"},
])
def test_malformed_search_is_422(client: TestClient, params: dict[str, object]) -> None:
    assert client.get("/clients", params=params).status_code == 422


def test_extreme_but_valid_search_is_fine(client: TestClient) -> None:
    for params in ({"offset": 2**63 - 1}, {"q": "9" * 19}, {"q": "0"}, {"limit": 1000}):
        response = client.get("/clients", params=params)
        assert response.status_code == 200, (params, response.text)


def test_malformed_comparison_and_similar_are_422(client: TestClient, ids: SampleIds,
                                                  feature: str) -> None:
    base = f"/clients/{ids.history}"
    for path, params in [
        ("/comparison", {}),
        ("/comparison", {"feature": feature, "group": "everyone"}),
        ("/comparison", {"feature": "no_such_feature"}),
        ("/comparison", {"feature": 'a" from serving.clients; --'}),
        ("/comparison", {"feature": "x" * 5000}),
        ("/comparison", {"feature": "sk_id_curr"}),
        ("/similar", {"k": 0}), ("/similar", {"k": 51}), ("/similar", {"k": "many"}),
        ("/scatter", {"x": feature}),
        ("/scatter", {"x": feature, "y": "target"}),
    ]:
        response = client.get(base + path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert "detail" in response.json()


def test_no_warehouse_is_503(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "warehouse.duckdb")) as c:
        health = c.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        for path in ("/clients", "/clients/100002", "/clients/100002/score",
                     "/clients/100002/explanation", "/clients/100002/similar",
                     "/clients/100002/comparison?feature=x", "/model", "/portfolio",
                     "/features"):
            response = c.get(path)
            assert response.status_code == 503, path
            assert "no warehouse published" in response.json()["detail"]


def test_bearer_token(warehouse_path: Path) -> None:
    with TestClient(create_app(warehouse_path, token="s3cret")) as c:
        assert c.get("/health").status_code == 401
        assert c.get("/docs").status_code == 401
        assert c.get("/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/health", headers={"Authorization": "s3cret"}).status_code == 401
        ok = c.get("/health", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["status"] == "ok"


def test_off_loopback_binding_requires_a_token() -> None:
    check_binding("127.0.0.1", None)
    check_binding("localhost", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", "token")
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.org"):
        with pytest.raises(BadInput, match="PAD_API_TOKEN"):
            check_binding(host, None)
