"""Alerts: one JSON record per alert under PAD_HOME/alerts/, and a POST to PAD_ALERT_WEBHOOK.

`raise_alert` is the one way to raise an alert, for the refresh (a failed run, drift, fairness,
back-test flags) and for anything else that watches the product (e.g. a broken decision-log
chain); it lives in the lowest layer so every package may call it. The record is written first (temp + rename: `serving.alerts` is a view over these files,
so an alert survives a refresh that publishes nothing), then POSTed; a webhook that is down or
slow never fails the caller: the outcome of the delivery is written back into the record.
"""
from __future__ import annotations

import json
import os
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from warehouse.config import PadPaths, alert_webhook

SEVERITIES = ("info", "warning", "critical")
WEBHOOK_TIMEOUT_S = 5.0
# An empty JSON array that the glob of serving.alerts always matches: DuckDB refuses to read a
# glob that matches no file, and the view must work before the first alert.
EMPTY_MARKER = ".none.json"


def ensure_alert_store(paths: PadPaths) -> Path:
    """PAD_HOME/alerts/ with its empty marker (idempotent)."""
    paths.alerts.mkdir(parents=True, exist_ok=True)
    marker = paths.alerts / EMPTY_MARKER
    if not marker.exists():
        marker.write_text("[]\n")
    return paths.alerts


def raise_alert(paths: PadPaths, kind: str, message: str, severity: str = "warning",
                refresh_run_id: str | None = None, details: dict | None = None) -> Path:
    """Record an alert (PAD_HOME/alerts/<raised_at>-<kind>-<id>.json) and POST it when
    PAD_ALERT_WEBHOOK is set. `kind` is a short code ('refresh_failed', 'drift', 'fairness',
    'backtest', 'decision_chain', …); `message` one line of plain English."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    raised_at = datetime.now(UTC)
    alert = {"alert_id": uuid.uuid4().hex[:12], "raised_at": raised_at.isoformat(),
             "kind": kind, "severity": severity, "message": " ".join(message.split()),
             "refresh_run_id": refresh_run_id, "details": details or {}}
    ensure_alert_store(paths)
    path = paths.alerts / f"{raised_at:%Y%m%dT%H%M%S%f}-{kind}-{alert['alert_id']}.json"
    _write_atomic(path, alert)
    url = alert_webhook()
    if url:
        alert["webhook"] = _post(url, alert)
        _write_atomic(path, alert)
    return path


def _post(url: str, alert: dict) -> str:
    body = json.dumps({k: v for k, v in alert.items() if k != "webhook"}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            return f"delivered ({response.status})"
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts, a malformed URL
        return f"not delivered: {' '.join(str(exc).split())}"


def _write_atomic(path: Path, data: dict) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(data, indent=2))
    os.replace(temp, path)


def read_alerts(paths: PadPaths) -> list[dict]:
    """Every recorded alert, oldest first (unreadable files skipped)."""
    out = []
    files = sorted(paths.alerts.glob("*.json")) if paths.alerts.is_dir() else []
    for path in (p for p in files if not p.name.startswith(".")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    return out
