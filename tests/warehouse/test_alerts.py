"""raise_alert: a JSON record under PAD_HOME/alerts/ and a POST to PAD_ALERT_WEBHOOK."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from warehouse.alerts import raise_alert, read_alerts
from warehouse.config import PadPaths


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:  # http.server's name
        length = int(self.headers["Content-Length"])
        self.received.append({"content_type": self.headers["Content-Type"],
                              "body": json.loads(self.rfile.read(length))})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    """A real HTTP server on loopback that records the POSTs it gets."""
    received: list[dict] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_alert_is_recorded_and_posted(tmp_path: Path, receiver, monkeypatch) -> None:
    url, received = receiver
    monkeypatch.setenv("PAD_ALERT_WEBHOOK", url)
    paths = PadPaths(tmp_path)
    path = raise_alert(paths, "drift", "score PSI 0.31 (act)\n against training",
                       severity="critical", refresh_run_id="run-1", details={"psi": 0.31})
    record = json.loads(path.read_text())
    assert path.parent == tmp_path / "alerts"
    assert record["kind"] == "drift" and record["severity"] == "critical"
    assert record["message"] == "score PSI 0.31 (act) against training"
    assert record["raised_at"].endswith("+00:00")
    assert record["webhook"] == "delivered (204)"
    assert len(received) == 1 and received[0]["content_type"] == "application/json"
    assert received[0]["body"]["alert_id"] == record["alert_id"]
    assert received[0]["body"]["details"] == {"psi": 0.31}
    assert [a["alert_id"] for a in read_alerts(paths)] == [record["alert_id"]]


def test_webhook_down_never_fails_the_caller(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PAD_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens")
    path = raise_alert(PadPaths(tmp_path), "refresh_failed", "boom")
    assert json.loads(path.read_text())["webhook"].startswith("not delivered")


def test_no_webhook_no_post_and_bad_severity_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PAD_ALERT_WEBHOOK", raising=False)
    path = raise_alert(PadPaths(tmp_path), "backtest", "band E under-estimated")
    assert "webhook" not in json.loads(path.read_text())
    with pytest.raises(ValueError):
        raise_alert(PadPaths(tmp_path), "backtest", "x", severity="loud")
