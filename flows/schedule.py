"""`pad schedule`: a local Prefect server serving the two scheduled deployments.

- daily refresh (default cron "0 6 * * *"): `pad refresh` on $PAD_HOME/raw, no retrain;
- weekly retrain (default cron "0 5 * * 1"): the same with a retrain.
The server keeps its state under PAD_HOME/prefect; its UI is on http://127.0.0.1:4200 while
this command runs. Stop with Ctrl-C.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows.config import configure_prefect
from warehouse.config import PadPaths, pad_paths
from warehouse.errors import BadInput, RunFailure

SERVER_HOST, SERVER_PORT = "127.0.0.1", 4200


def check_cron(expression: str, option: str) -> str:
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=expression)
    except ValidationError:
        raise BadInput(f"{option}: {expression!r} is not a valid cron expression") from None
    return expression


def scheduled_refresh_flow():
    """The flow the deployments run (built lazily: importing Prefect is slow)."""
    from prefect import flow

    @flow(name="pad-scheduled-refresh")
    def scheduled_refresh(retrain: bool = False, raw: str | None = None) -> int:
        from flows.refresh import run_refresh

        paths = pad_paths()
        return run_refresh(raw=Path(raw) if raw else paths.raw, retrain=retrain, paths=paths)

    return scheduled_refresh


def build_deployments(refresh_cron: str, retrain_cron: str, raw: Path | None = None) -> list:
    flow = scheduled_refresh_flow()
    parameters = {"raw": str(raw)} if raw else {}
    return [
        flow.to_deployment(name="daily-refresh", cron=refresh_cron,
                           parameters={"retrain": False, **parameters},
                           description="Refresh scores from the current raw files"),
        flow.to_deployment(name="weekly-retrain", cron=retrain_cron,
                           parameters={"retrain": True, **parameters},
                           description="Retrain (champion guard applies), then refresh"),
    ]


def _wait_until_healthy(url: str, timeout: float = 180.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RunFailure(f"the Prefect server did not answer on {url} within {timeout:.0f}s")


def run_schedule(paths: PadPaths, refresh_cron: str, retrain_cron: str) -> int:
    check_cron(refresh_cron, "--refresh-cron")
    check_cron(retrain_cron, "--retrain-cron")
    configure_prefect(paths, ephemeral=False)
    api_url = f"http://{SERVER_HOST}:{SERVER_PORT}/api"
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", SERVER_HOST,
         "--port", str(SERVER_PORT)],
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    try:
        _wait_until_healthy(api_url)
        os.environ["PREFECT_API_URL"] = api_url
        print(f"schedule: Prefect server on http://{SERVER_HOST}:{SERVER_PORT} "
              f"(state in {paths.prefect}); daily refresh '{refresh_cron}', "
              f"weekly retrain '{retrain_cron}'. Ctrl-C to stop.", file=sys.stderr)
        from prefect import serve

        serve(*build_deployments(refresh_cron, retrain_cron))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0
