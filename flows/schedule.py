"""`pad schedule`: a local Prefect server serving the two scheduled deployments.

- daily refresh (default cron "0 6 * * *"): `pad refresh` on $PAD_HOME/raw, no retrain;
- weekly retrain (default cron "0 5 * * 1"): the same with a retrain.

This process only supervises two children, each in its own process group and set to die with
it (even when it is killed with SIGKILL):
  server  `prefect server start` on 127.0.0.1:PORT (default 4200), state under PAD_HOME/prefect,
          output in PAD_HOME/prefect/server.log;
  runner  `python -m flows.schedule runner`: registers the deployments and runs their flow runs
          (each in a child process of the runner, in the runner's process group).
Both get PREFECT_API_URL in their environment before Prefect is imported, so no second
("temporary") server is ever started. SIGINT/SIGTERM stop the runner's group (a flow run in
progress records itself as failed; one that could not within the runner's grace is recorded
failed by this process as soon as the group is gone), then the server: everything is gone
within 10 s. A `pad schedule` killed outright sends both children SIGTERM (their parent-death
signal); the runner then kills its own group after its grace, as this process would have. It
also leaves a pid file; the next one stops what it finds from it.
"""
from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from flows.config import SERVER_HOST, schedule_environment
from flows.processes import (
    Stopped,
    child_of_this_process,
    kill_own_group_when_orphaned,
    stop_process_group,
)
from warehouse.config import PadPaths
from warehouse.errors import BadInput, RunFailure

PID_FILE = "schedule.json"
RUNNER_GRACE, SERVER_GRACE = 6.5, 2.5  # seconds; together within the 10 s of CONTRACTS §2


def check_cron(expression: str, option: str) -> str:
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=expression)
    except ValidationError:
        raise BadInput(f"{option}: {expression!r} is not a valid cron expression") from None
    return expression


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((SERVER_HOST, port))
        except OSError:
            raise RunFailure(f"port {port} on {SERVER_HOST} is in use (another `pad schedule`"
                             " or Prefect server?); choose another with --port") from None


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path,
                        timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RunFailure(f"the Prefect server exited with code {server.returncode} "
                             f"(see {log})")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RunFailure(f"the Prefect server did not answer on {url} within {timeout:.0f}s")


# --- leftovers of a `pad schedule` killed outright ------------------------------------------------

def _process_identity(pid: int) -> dict:
    return {"pid": pid, "started": psutil.Process(pid).create_time()}


def _alive(identity: dict) -> bool:
    try:
        return psutil.Process(identity["pid"]).create_time() == identity["started"]
    except psutil.Error:
        return False


def _stop_leftovers(pid_file: Path) -> None:
    """Stop the children of a previous `pad schedule` that did not get to stop them."""
    try:
        previous = json.loads(pid_file.read_text())
    except (OSError, json.JSONDecodeError):
        return
    if _alive(previous["supervisor"]):
        raise RunFailure(f"`pad schedule` is already running (pid {previous['supervisor']['pid']}"
                         f", {pid_file})")
    for child in previous.get("children", []):
        if _alive(child):
            print(f"schedule: stopping process group {child['pid']} left by a killed "
                  "`pad schedule`", file=sys.stderr, flush=True)
            for signum in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(child["pid"], signum)
                except ProcessLookupError:
                    break
                time.sleep(1.0)
    pid_file.unlink(missing_ok=True)


def _write_pid_file(pid_file: Path, children: list[subprocess.Popen]) -> None:
    data = {"supervisor": _process_identity(os.getpid()),
            "children": [_process_identity(c.pid) for c in children]}
    temp = pid_file.with_suffix(".tmp")
    temp.write_text(json.dumps(data))
    os.replace(temp, pid_file)


# --- the supervisor -------------------------------------------------------------------------------

def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


def _import_run_repair() -> None:
    """Import what `_record_stopped_runs` needs now, while the server starts: imported at the
    stop, it took 2-3 s of the 10 s a stop may take, and a run killed in its dbt build was left
    'running' when the stop was cut short."""
    for module in ("flows.publish", "flows.refresh"):
        importlib.import_module(module)


def _record_stopped_runs(paths: PadPaths, reason: str) -> None:
    """A run stopped with the runner may not have recorded its end before its grace ran out (a
    signal handler waits for a long DuckDB or dbt call to return): record it now, as the next
    refresh would, while no refresh can hold the lock (its process group is gone)."""
    from flows.publish import refresh_lock
    from flows.refresh import repair_after_killed_runs

    try:
        with refresh_lock(paths):
            repair_after_killed_runs(paths, reason)
    except RunFailure:
        pass  # a refresh started outside `pad schedule` holds the lock: it records itself


def run_schedule(paths: PadPaths, refresh_cron: str, retrain_cron: str, port: int) -> int:
    check_cron(refresh_cron, "--refresh-cron")
    check_cron(retrain_cron, "--retrain-cron")
    env = schedule_environment(paths, port)
    pid_file = paths.prefect / PID_FILE
    _stop_leftovers(pid_file)
    _check_port_free(port)
    log = paths.prefect / "server.log"
    children: list[subprocess.Popen] = []
    stop_reason = "stopped with `pad schedule`"
    previous = {s: signal.signal(s, _raise_stopped) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open(log, "ab") as server_log:
            children.append(subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", SERVER_HOST,
                 "--port", str(port)],
                env=env, stdin=subprocess.DEVNULL, stdout=server_log, stderr=subprocess.STDOUT,
                **child_of_this_process()))
        _write_pid_file(pid_file, children)
        _import_run_repair()
        _wait_until_healthy(env["PREFECT_API_URL"], children[0], log)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "flows.schedule", "runner", refresh_cron, retrain_cron],
            env=env, stdin=subprocess.DEVNULL, **child_of_this_process()))
        _write_pid_file(pid_file, children)
        print(f"schedule: Prefect server on http://{SERVER_HOST}:{port} (state in "
              f"{paths.prefect}); daily refresh '{refresh_cron}', weekly retrain "
              f"'{retrain_cron}'. Ctrl-C to stop.", file=sys.stderr, flush=True)
        while True:
            for child, name in zip(children, ("server", "runner"), strict=False):
                if child.poll() is not None:
                    raise RunFailure(f"the {name} exited with code {child.returncode}")
            time.sleep(0.5)
    except Stopped as exc:
        print(f"schedule: {exc}, stopping", file=sys.stderr, flush=True)
        stop_reason = str(exc)
        return 0
    finally:
        for signum in previous:  # a second Ctrl-C must not cut the shutdown short
            signal.signal(signum, signal.SIG_IGN)
        server = children[0] if children else None
        runner = children[1] if len(children) > 1 else None
        if runner is not None:  # first: its flow runs report their end through the server
            stop_process_group(runner, RUNNER_GRACE)
            _record_stopped_runs(paths, stop_reason)
        if server is not None:
            stop_process_group(server, SERVER_GRACE)
        pid_file.unlink(missing_ok=True)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _runner_main(argv: list[str]) -> None:
    """The runner child: serve both deployments (Prefect handles SIGTERM: graceful stop)."""
    from flows.scheduled import serve_deployments

    refresh_cron, retrain_cron = argv
    kill_own_group_when_orphaned(os.getppid(), RUNNER_GRACE)
    serve_deployments(refresh_cron, retrain_cron)


if __name__ == "__main__" and sys.argv[1:2] == ["runner"]:
    _runner_main(sys.argv[2:])
