"""Monitoring through real refreshes of an evolving portfolio with a planted drift: month 0
(trains the champion) then month 3 (income −30 %, EXT_SOURCE_3 −0.15 on every arrival).

Checks drift flags on the touched features only, the back-test of clients scored when pending
at month 0 whose outcome arrived by month 3, the fairness report, PAD_HOME/history, alerts
(records, serving.alerts, webhook POSTs to a local receiver) and the failed-refresh alert."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import duckdb
import pandas as pd
import pytest

from flows.refresh import run_refresh
from warehouse.config import pad_paths
from warehouse.errors import BadInput
from warehouse.raw.evolve import generate_months, month_dir
from warehouse.raw.synth.drift import parse_drift

pytestmark = [pytest.mark.slow, pytest.mark.dbt]

CLIENTS, SEED, MONTHS = 1500, 5, 3
DRIFT = "income=-0.30,ext_source_3=-0.15"


def touched(feature: str) -> bool:
    """Features computed from a drifted column: income ratios, EXT_SOURCE_3 and the
    EXT_SOURCE combinations that include it."""
    return "income" in feature or ("ext_source" in feature
                                   and not feature.endswith(("source_1", "source_2")))


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:  # http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> Iterator[list[dict]]:
    received: list[dict] = []
    server = HTTPServer(("127.0.0.1", 0), type("Handler", (_Receiver,), {"received": received}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    old = os.environ.get("PAD_ALERT_WEBHOOK")
    os.environ["PAD_ALERT_WEBHOOK"] = f"http://127.0.0.1:{server.server_port}/alerts"
    yield received
    if old is None:
        os.environ.pop("PAD_ALERT_WEBHOOK", None)
    else:
        os.environ["PAD_ALERT_WEBHOOK"] = old
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def evolving(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("evolving")
    generate_months(CLIENTS, out, MONTHS, seed=SEED, drift=parse_drift(DRIFT))
    return out


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, evolving: Path, webhook: list[dict], prefect_server) -> Path:
    """PAD_HOME after the month-0 refresh (trains) and the month-3 refresh (scores only)."""
    home = tmp_path_factory.mktemp("pad-home-monitor")
    paths = pad_paths(home)
    assert run_refresh(raw=month_dir(evolving, 0), retrain=False, paths=paths) == 0
    assert run_refresh(raw=month_dir(evolving, MONTHS), retrain=False, paths=paths) == 0
    return home


def runs(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "history").iterdir() if not p.name.startswith("."))


def query(home: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_planted_drift_is_flagged_on_the_touched_features_only(monitored: Path) -> None:
    first, last = runs(monitored)
    drift = query(monitored, "select * from serving.drift")
    now = drift[(drift["refresh_run_id"] == last) & (drift["reference"] == "training")]
    assert len(now) == 21  # the score + the champion's top 20 features
    features = now[now["feature_name"] != "score"].set_index("feature_name")
    untouched = features[[not touched(f) for f in features.index]]
    # moved by the drift itself: EXT_SOURCE_3 and the application's income and its ratios (a
    # bureau debt-to-income ratio moves less: most clients have no active bureau debt)
    direct = features[[f == "app_ext_source_3" or (f.startswith("app_") and "income" in f)
                       for f in features.index]]
    assert len(untouched) >= 5 and len(direct) >= 1
    assert (untouched["flag"] == "stable").all(), untouched[["psi", "flag"]]
    assert direct["flag"].isin(["watch", "act"]).all(), direct[["psi", "flag"]]
    assert now.set_index("feature_name").loc["score", "flag"] in ("watch", "act")
    # against the previous refresh (month 0's pending clients) too, and the month-0 rows are
    # kept for trends
    previous = drift[(drift["refresh_run_id"] == last) & (drift["reference"] == "previous_refresh")]
    assert set(previous["feature_name"]) == set(now["feature_name"])
    assert (drift["refresh_run_id"] == first).sum() == 21  # no previous refresh at month 0


def test_backtest_on_the_outcomes_that_arrived(monitored: Path, evolving: Path) -> None:
    first, _ = runs(monitored)
    back = query(monitored, "select * from serving.backtest")
    con = duckdb.connect()
    pending0 = set(con.execute(f"select SK_ID_CURR from read_csv('{evolving}/application_test.csv')"
                               ).fetchnumpy()["SK_ID_CURR"])
    train3 = set(con.execute("select SK_ID_CURR from read_csv("
                             f"'{month_dir(evolving, MONTHS)}/application_train.csv', "
                             "hive_partitioning = false)").fetchnumpy()["SK_ID_CURR"])
    assert set(back["refresh_run_id"]) == {first}
    assert back["clients"].sum() == len(pending0 & train3) > 50
    assert back["jeffreys_p"].between(0, 1).all()
    assert back["auc"].nunique() == 1 and 0.5 < back["auc"].iloc[0] <= 1
    assert set(back["flag"]) <= {"ok", "fail"}
    assert (back["flag"] == "fail").eq(back["jeffreys_p"] < 0.05).all()


def test_fairness_from_out_of_fold_predictions(monitored: Path) -> None:
    fair = query(monitored, "select * from serving.fairness")
    assert set(fair["attribute"]) == {"gender", "age_band", "family_status"}
    # refusal rates per gender recomputed from the out-of-fold decisions
    check = query(monitored, """
        select p.gender as "group", count(*) as clients,
               avg((o.decision = 'refuse')::int) as refusal_rate
        from ml.monitor_oof_scores o join marts.client_profile p using (sk_id_curr)
        group by 1""").set_index("group")
    gender = fair[fair["attribute"] == "gender"].set_index("group")
    assert gender["clients"].to_dict() == check["clients"].to_dict()
    assert (gender["refusal_rate"] - check["refusal_rate"]).abs().max() < 1e-12
    # small groups are reported and flagged, never hidden
    small = fair[fair["clients"] < 100]
    assert (small["flag"] == "small_group").all()
    assert fair.groupby("attribute")["clients"].sum().nunique() == 1  # every client counted
    sized = fair[fair["clients"] >= 100]
    assert ((sized["grant_rate_ratio"] < 0.8) == (sized["flag"] == "four_fifths")).all()


def test_history_and_alerts(monitored: Path, webhook: list[dict]) -> None:
    first, last = runs(monitored)
    for run in (first, last):
        assert {p.name for p in (monitored / "history" / run).iterdir()} == {
            "scores.parquet", "features.parquet", "drift.parquet"}
    alerts = query(monitored, "select * from serving.alerts order by raised_at")
    drift_alerts = alerts[(alerts["kind"] == "drift") & (alerts["refresh_run_id"] == last)]
    assert len(drift_alerts) == 1 and "app_ext_source_3" in drift_alerts["message"].iloc[0] \
        or "income" in drift_alerts["message"].iloc[0]
    assert set(alerts["webhook_delivery"]) == {"delivered (200)"}
    assert {a["alert_id"] for a in webhook} == set(alerts["alert_id"])


def test_model_card_in_french_and_english(monitored: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PAD_HOME": str(monitored)}
    version = query(monitored, "select model_version from serving.model_runs where is_champion"
                    )["model_version"].iloc[0]
    out = tmp_path / "card.html"
    done = subprocess.run([sys.executable, "-m", "flows.cli", "model-card", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert html.startswith("<!doctype html>") and 'lang="fr"' in html and version in html
    for heading in ("Usage prévu", "Données", "Variables", "Back-test", "Équité",
                    "Seuil et politique de coût", "Limites"):
        assert f"{heading}" in html
    assert "<table>" in html and ">male<" in html  # the fairness table, gender groups
    english = subprocess.run([sys.executable, "-m", "flows.cli", "model-card", "--lang", "en"],
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert english.returncode == 0 and "## Intended use" in english.stdout
    assert "## Fairness (out-of-fold predictions)" in english.stdout
    bad = subprocess.run([sys.executable, "-m", "flows.cli", "model-card", "--out",
                          str(tmp_path / "card.pdf")], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "card.pdf").exists()


def test_a_failed_refresh_leaves_an_alert(monitored: Path, evolving: Path, tmp_path: Path,
                                          webhook: list[dict]) -> None:
    """Last test of the module: it adds a failed run to the shared PAD_HOME (serving.alerts
    reads the PAD_HOME it was built for, so a copy would not show it)."""
    home = monitored
    bad = shutil.copytree(month_dir(evolving, MONTHS), tmp_path / "bad")
    (bad / "bureau.csv").write_text("SK_ID_CURR\r\n")
    with pytest.raises(BadInput):
        run_refresh(raw=bad, retrain=False, paths=pad_paths(home))
    alerts = query(home, "select * from serving.alerts where kind = 'refresh_failed'")
    assert len(alerts) == 1 and alerts["severity"].iloc[0] == "critical"
    assert "bureau.csv" in alerts["message"].iloc[0]
    assert webhook[-1]["kind"] == "refresh_failed"
