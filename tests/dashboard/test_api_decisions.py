"""Decision routes of the API (CONTRACTS §7) on both store backends: statuses, rules, tokens,
and 8 concurrent writers through the real `pad api` over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from dashboard.api import create_app
from tests.dashboard.conftest import SampleIds
from warehouse.config import PadPaths
from warehouse.decisions import DecisionStore
from warehouse.decisions.contest import contest_code, contest_key

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPO = Path(__file__).resolve().parents[2]
ADVISORS = {"tok-alice-123": "alice", "tok-bob-4567": "bob"}
ALICE = {"Authorization": "Bearer tok-alice-123"}
BOB = {"Authorization": "Bearer tok-bob-4567"}
WHY = "Income verified on payslips since the application was scored."


@pytest.fixture
def store(decisions_url: str) -> Iterator[DecisionStore]:
    s = DecisionStore(decisions_url)
    yield s
    s.close()


@pytest.fixture
def api(warehouse_path: Path, store: DecisionStore) -> Iterator[TestClient]:
    with TestClient(create_app(warehouse_path, decisions=store, advisors=ADVISORS)) as c:
        yield c


def post(api: TestClient, client: int, body: dict, headers: dict | None = None):
    return api.post(f"/clients/{client}/decisions", json=body, headers=headers or {})


def test_issue_override_contest_review(api: TestClient, ids: SampleIds,
                                       warehouse_path: Path) -> None:
    refused = ids.refused
    issued = post(api, refused, {"kind": "issued"}, ALICE)
    assert issued.status_code == 201, issued.text
    entry = issued.json()
    score = api.get(f"/clients/{refused}/score").json()
    assert entry["decision"] == "refuse" == score["decision"] and entry["actor"] == "alice"
    assert entry["score"] == score["score"] and entry["model_version"] == score["model_version"]
    assert entry["reasons"] and entry["created_at"].endswith("+00:00")
    bad = post(api, refused, {"kind": "overridden", "decision": "grant"}, ALICE)
    assert bad.status_code == 422 and "justification" in bad.json()["detail"]
    override = post(api, refused, {"kind": "overridden", "decision": "grant", "comment": WHY},
                    ALICE)
    assert override.status_code == 201 and override.json()["decision"] == "grant"
    code = contest_code(contest_key(PadPaths(warehouse_path.parent)), refused)
    wrong = post(api, refused, {"kind": "contested", "comment": "I disagree with this.",
                                "contest_code": "AAAA-AAAA"})
    assert wrong.status_code == 401 and "contest code" in wrong.json()["detail"]
    contest = post(api, refused, {"kind": "contested", "contest_code": code.lower(),
                                  "comment": "My income doubled last month, see my payslip."})
    assert contest.status_code == 201 and contest.json()["actor"] == "client"
    queue = api.get("/reviews", params={"status": "open"}).json()["items"]
    assert [(i["sk_id_curr"], i["decided_by"]) for i in queue] == [(refused, "alice")]
    same = post(api, refused, {"kind": "reviewed", "comment": WHY}, ALICE)
    assert same.status_code == 422 and "four-eyes" in same.json()["detail"]
    review = post(api, refused, {"kind": "reviewed", "comment": WHY}, BOB)
    assert review.status_code == 201 and review.json()["decision"] == "grant"
    assert api.get("/reviews").json()["items"] == []
    history = api.get(f"/clients/{refused}/decisions").json()["items"]
    assert [e["kind"] for e in history] == ["issued", "overridden", "contested", "reviewed"]
    assert [e["prev_hash"] for e in history[1:]] == [e["entry_hash"] for e in history[:-1]]


@pytest.mark.parametrize("headers, body, status, message", [
    ({}, {"kind": "issued"}, 401, "advisor token"),
    ({"Authorization": "Bearer nope-nope-nope"}, {"kind": "issued"}, 401, "advisor token"),
    (ALICE, {"kind": "approved"}, 422, "kind"),
    (ALICE, {"kind": "issued", "extra": 1}, 422, "extra"),
    (ALICE, {"kind": "issued", "what_if_edits": {"days_birth": 3}}, 422, "days_birth"),
    (ALICE, {"kind": "contested", "comment": WHY}, 422, "no decision yet"),
    (ALICE, {"kind": "reviewed", "comment": WHY}, 422, "no decision yet"),
    (ALICE, {"kind": "issued", "contest_code": "AAAA-AAAA"}, 422, "only for"),
])
def test_refused_writes(api: TestClient, ids: SampleIds, store: DecisionStore, headers: dict,
                        body: dict, status: int, message: str) -> None:
    response = post(api, ids.granted, body, headers)
    assert response.status_code == status, response.text
    assert message in str(response.json()["detail"])
    assert store.entries() == []


def test_unknown_client_is_404(api: TestClient, ids: SampleIds) -> None:
    assert post(api, ids.missing, {"kind": "issued"}, ALICE).status_code == 404
    assert api.get(f"/clients/{ids.missing}/decisions").status_code == 404
    assert api.get(f"/clients/{ids.granted}/decisions").json() == {"items": []}


def test_service_token_reads_only_advisors_write(warehouse_path: Path, store: DecisionStore,
                                                 ids: SampleIds) -> None:
    app = create_app(warehouse_path, token="service-token", decisions=store, advisors=ADVISORS)
    with TestClient(app) as api:
        service = {"Authorization": "Bearer service-token"}
        path = f"/clients/{ids.granted}/decisions"
        assert api.get(path).status_code == 401
        assert api.get(path, headers=service).status_code == 200
        assert api.get(path, headers=BOB).status_code == 200
        assert api.get("/health", headers=ALICE).status_code == 200
        assert api.post(path, json={"kind": "issued"}, headers=service).status_code == 401
        assert api.post(path, json={"kind": "issued"}, headers=BOB).status_code == 201


def test_openapi_documents_every_status(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths["/clients/{sk_id_curr}/decisions"]["post"]["responses"]) >= {
        "201", "401", "404", "422", "503"}
    assert "/reviews" in paths


# --- the real API over HTTP -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiProcess:
    """`pad api` in a child process over a PAD_HOME that links the test warehouse."""

    def __init__(self, home: Path, url: str) -> None:
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO), "PAD_HOME": str(home),
               "PAD_DECISIONS_URL": url,
               "PAD_ADVISOR_TOKENS": ",".join(f"{n}:{t}" for t, n in ADVISORS.items())}
        env.pop("PAD_API_TOKEN", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "api", "--port",
                                      str(self.port)], env=env, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError("pad api did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


@pytest.fixture
def api_home(tmp_path: Path, warehouse_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "warehouse.duckdb").symlink_to(warehouse_path)
    return home


def _write_many(base: str, worker: int, clients: list[int], count: int) -> list[int]:
    statuses = []
    headers = ALICE if worker % 2 else BOB
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for i in range(count):
            client = clients[(worker * count + i) % len(clients)]
            statuses.append(http.post(f"/clients/{client}/decisions",
                                      json={"kind": "issued"}).status_code)
    return statuses


def test_eight_http_writers_lose_nothing_and_the_log_survives_a_restart(
        api_home: Path, decisions_url: str, db) -> None:
    clients = [int(r[0]) for r in db.execute(
        "select sk_id_curr from serving.clients order by sk_id_curr limit 200").fetchall()]
    server = ApiProcess(api_home, decisions_url)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda w: _write_many(server.base, w, clients, 100),
                                    range(8)))
    finally:
        server.stop()
    assert [s for r in results for s in r] == [201] * 800
    store = DecisionStore(decisions_url, read_only=True)
    result = store.verify()
    assert result.valid and result.entries == 800
    store.close()
    again = ApiProcess(api_home, decisions_url)       # the log survives a restart
    try:
        history = httpx.get(f"{again.base}/clients/{clients[0]}/decisions").json()["items"]
        assert len(history) == 4
        new = httpx.post(f"{again.base}/clients/{clients[0]}/decisions", json={"kind": "issued"},
                         headers=ALICE).json()
        assert new["entry_id"] == 801 and new["prev_hash"] == result.head_hash
    finally:
        again.stop()


def test_rule_errors_follow_the_language(api: TestClient, ids: SampleIds) -> None:
    """What the contest box shows a client: the rules' and the contest code's errors in the
    language of Accept-Language (English by default), the same rule either way."""
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    contest = {"kind": "contested", "comment": "I disagree with this.",
               "contest_code": "AAAA-AAAA"}
    wrong_fr, wrong_en = (post(api, ids.refused, contest, french),
                          post(api, ids.refused, contest))
    assert wrong_fr.status_code == wrong_en.status_code == 401
    assert wrong_fr.json()["detail"].startswith("code de contestation erroné pour le client")
    assert wrong_en.json()["detail"].startswith("wrong contest code for client")
    none_yet = {"kind": "contested", "comment": "My income doubled last month, see my payslip."}
    fr, en = (post(api, ids.granted, none_yet, {**ALICE, **french}),
              post(api, ids.granted, none_yet, ALICE))
    assert fr.status_code == en.status_code == 422
    assert fr.headers["content-language"] == "fr" and en.headers["content-language"] == "en"
    assert fr.json()["detail"] == ("aucune décision n'a encore été prise pour ce client : il "
                                   "n'y a rien à contester")
    assert en.json()["detail"] == "this client has no decision yet: nothing to contest"
