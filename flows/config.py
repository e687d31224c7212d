"""Orchestration settings: the one place in `flows` that reads the environment.

Prefect runs `pad refresh` without a server (a temporary local API): we keep its state under
PAD_HOME/prefect and switch off the server services a one-shot run does not need, which roughly
halves its start-up. A user who points PREFECT_API_URL at a real server keeps full control.
"""
from __future__ import annotations

import os

from warehouse.config import PadPaths

EPHEMERAL_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}
DEFAULT_REFRESH_CRON = "0 6 * * *"
DEFAULT_RETRAIN_CRON = "0 5 * * 1"


def configure_prefect(paths: PadPaths, *, ephemeral: bool = True) -> None:
    """Point Prefect at PAD_HOME/prefect before it is imported (settings are read at import)."""
    paths.prefect.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(paths.prefect))
    if ephemeral and "PREFECT_API_URL" not in os.environ:
        for key, value in EPHEMERAL_DEFAULTS.items():
            os.environ.setdefault(key, value)
