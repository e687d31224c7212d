"""The flow `pad schedule` serves, and the runner process that serves it.

The deployments name their flow by import path (`flows.scheduled:scheduled_refresh`), and each
flow run imports it in a fresh process, so the flow must live at module level. Importing this
module imports Prefect: only the runner (`python -m flows.schedule runner ...`, started by
`pad schedule` with the API URL already in its environment) and the flow runs do.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow, serve
from prefect.deployments.runner import EntrypointType
from prefect.states import Failed, State

from flows.processes import die_with_parent
from flows.refresh import run_refresh
from warehouse.config import pad_paths
from warehouse.errors import BadInput

FLOW_NAME = "pad-scheduled-refresh"
DAILY, WEEKLY = "daily-refresh", "weekly-retrain"


@flow(name=FLOW_NAME, log_prints=False)
def scheduled_refresh(retrain: bool = False, raw: str | None = None) -> int | State:
    """`pad refresh [--retrain]` on PAD_HOME/raw (or `raw`). Bad input fails the run with its
    one-line message and no traceback."""
    die_with_parent()  # the runner stopping (even by SIGKILL) stops this run too
    paths = pad_paths()
    try:
        return run_refresh(raw=Path(raw) if raw else paths.raw, retrain=retrain, paths=paths)
    except BadInput as exc:
        return Failed(message=f"bad input: {exc}")


def build_deployments(refresh_cron: str, retrain_cron: str, raw: Path | None = None) -> list:
    parameters = {"raw": str(raw)} if raw else {}
    options = {"entrypoint_type": EntrypointType.MODULE_PATH}
    return [
        scheduled_refresh.to_deployment(
            name=DAILY, cron=refresh_cron, parameters={"retrain": False, **parameters},
            description="Refresh scores from the current raw files", **options),
        scheduled_refresh.to_deployment(
            name=WEEKLY, cron=retrain_cron, parameters={"retrain": True, **parameters},
            description="Retrain (champion guard applies), then refresh", **options),
    ]


def serve_deployments(refresh_cron: str, retrain_cron: str) -> None:
    """Register both deployments and run their flow runs until SIGTERM."""
    serve(*build_deployments(refresh_cron, retrain_cron), print_starting_message=False)
