"""Orchestration settings: the one place in `flows` that reads the environment.

Prefect runs `pad refresh` without a server (a temporary local API): we keep its state under
PAD_HOME/prefect and switch off the server services a one-shot run does not need, which roughly
halves its start-up. A user who points PREFECT_API_URL at a real server keeps full control.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from warehouse.config import PadPaths
from warehouse.errors import BadInput

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
DEFAULT_SCHEDULE_PORT = 4200
SERVER_HOST = "127.0.0.1"
# `pad schedule`: the server and the runner get these before Prefect is first imported (Prefect
# reads its settings at import; an API URL set later makes `serve` start a temporary server).
SCHEDULE_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_API_HOST": SERVER_HOST,
}


def schedule_environment(paths: PadPaths, port: int) -> dict[str, str]:
    """The environment of `pad schedule` and its children: state under PAD_HOME/prefect, the
    local server's API, an absolute PAD_HOME for the flow runs."""
    paths.prefect.mkdir(parents=True, exist_ok=True)
    return {**os.environ, **SCHEDULE_SETTINGS, "PAD_HOME": str(paths.home),
            "PREFECT_HOME": str(paths.prefect),
            "PREFECT_API_URL": f"http://{SERVER_HOST}:{port}/api",
            "PREFECT_SERVER_API_PORT": str(port)}


def dask_address(option: str | None, env: dict[str, str] | None = None) -> str | None:
    """`--dask` of `pad refresh`: None without it; given without a value, PAD_DASK_ADDRESS or
    'local'."""
    if option is None:
        return None
    env = os.environ if env is None else env
    return option or env.get("PAD_DASK_ADDRESS") or "local"


def dask_workers(env: dict[str, str] | None = None) -> int:
    """Processes of `--dask local` (PAD_DASK_WORKERS, default one per core), one thread each."""
    raw = (os.environ if env is None else env).get("PAD_DASK_WORKERS") or str(os.cpu_count() or 1)
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(f"environment variable PAD_DASK_WORKERS={raw!r} must be a whole number ≥ 1")
    return int(raw)


# Dask settings of the refresh, as environment variables: distributed reads them when first
# imported, and the local cluster's worker processes inherit them.
DASK_SETTINGS = {
    # distributed logs every worker start and stop at INFO; the refresh shows warnings only
    "DASK_LOGGING__DISTRIBUTED": "warning",
    # No statistical profiler in the workers. It calls sys._current_frames() every 10 ms, and
    # on CPython 3.11 a garbage collection inside that call which frees a threading.local
    # (dbt keeps many) waits for a lock the same call holds: the worker hangs for good, GIL
    # held (seen in a `--dask local` bucket's dbt build; distributed already keeps this
    # profiler off its event loops on 3.11, not off the worker's task threads).
    "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
}


def dask_settings() -> None:
    """Apply DASK_SETTINGS (a value already in the environment wins), before and after
    distributed is imported: a local cluster's nannies hand this process's Dask config to
    their workers, which would otherwise undo what the workers read from the environment."""
    for key, value in DASK_SETTINGS.items():
        os.environ.setdefault(key, value)
    import dask.config

    dask.config.refresh()


def configure_prefect(paths: PadPaths, *, ephemeral: bool = True) -> None:
    """Point Prefect at PAD_HOME/prefect before it is imported (settings are read at import)."""
    paths.prefect.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(paths.prefect))
    if ephemeral and "PREFECT_API_URL" not in os.environ:
        for key, value in EPHEMERAL_DEFAULTS.items():
            os.environ.setdefault(key, value)


class _BadInputOffConsole(logging.Filter):
    """Drops Prefect's console records about a BadInput: its task- and flow-failure logs (with
    tracebacks) and 'Finished in state Failed(... BadInput ...)'. Bad input is reported once,
    as the command's one-line error (CONTRACTS §2); the API log handler keeps the details for
    the Prefect UI."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, BadInput):
                return False
            error = error.__cause__ or error.__context__
        return BAD_INPUT_NAME not in record.getMessage()


BAD_INPUT_NAME = BadInput.__name__


def _prefect_console_handlers() -> list[logging.Handler]:
    """The stream handlers Prefect's records reach: the root logger's (Prefect puts its console
    handler there) and those of the `prefect.*` loggers."""
    names = [n for n in logging.Logger.manager.loggerDict if n.startswith("prefect")]
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in names)]
    handlers = {h for logger in loggers for h in logger.handlers}
    return [h for h in handlers if isinstance(h, logging.StreamHandler)]


_QUIET = _BadInputOffConsole()


def quiet_bad_input_on_prefect_console() -> None:
    """Filter Prefect's console handlers (idempotent). Prefect configures logging lazily and may
    do it again when its temporary server starts, so the flow calls this once running too."""
    from prefect.logging.configuration import ensure_logging_setup

    ensure_logging_setup()
    for handler in _prefect_console_handlers():
        if _QUIET not in handler.filters:
            handler.addFilter(_QUIET)


@contextmanager
def bad_input_off_prefect_console() -> Iterator[None]:
    """While a refresh runs, Prefect's console handlers stay silent about bad input."""
    quiet_bad_input_on_prefect_console()
    try:
        yield
    finally:
        for handler in _prefect_console_handlers():
            handler.removeFilter(_QUIET)
