"""`pad schedule`: the deployments, and the real command — a real Prefect server, runs of both
deployments triggered through its API, and a stop by signal that leaves no process behind."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest

from flows.cli import main
from flows.schedule import check_cron
from warehouse.errors import BadInput

# fast training for a small portfolio (the flow runs inherit the command's environment)
FAST_TRAINING = {"PAD_ML_FOLDS": "2", "PAD_ML_MAX_TREES": "30", "PAD_ML_CHUNK_ROWS": "1000"}
STOP_WITHIN = 10.0  # seconds (CONTRACTS §2)


def test_two_deployments_with_their_crons_and_an_importable_flow() -> None:
    from prefect.flows import load_flow_from_entrypoint

    from flows.scheduled import build_deployments

    daily, weekly = build_deployments("0 6 * * *", "30 4 * * 1")
    assert (daily.name, weekly.name) == ("daily-refresh", "weekly-retrain")
    assert daily.schedules[0].schedule.cron == "0 6 * * *"
    assert weekly.schedules[0].schedule.cron == "30 4 * * 1"
    assert daily.parameters["retrain"] is False and weekly.parameters["retrain"] is True
    # what a flow run does first: import the flow from the deployment's entrypoint
    for deployment in (daily, weekly):
        assert load_flow_from_entrypoint(deployment.entrypoint).name == "pad-scheduled-refresh"


def test_a_bad_cron_is_bad_usage(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(BadInput, match="--refresh-cron: 'every day' is not a valid cron"):
        check_cron("every day", "--refresh-cron")
    assert main(["schedule", "--retrain-cron", "61 * * * *"]) == 2
    assert capsys.readouterr().err.strip() == \
        "pad schedule: --retrain-cron: '61 * * * *' is not a valid cron expression"


# --- the real command ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Schedule:
    process: subprocess.Popen
    home: Path
    api: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tree(self) -> list[psutil.Process]:
        """The command and everything it started (its children have their own groups)."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def deployment_id(self, name: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                reply = httpx.get(f"{self.api}/deployments/name/pad-scheduled-refresh/{name}",
                                  timeout=5)
                if reply.status_code == 200:
                    return reply.json()["id"]
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(f"deployment {name} not registered in {timeout}s\n{self.output()}")

    def trigger(self, name: str) -> str:
        """Create a flow run as Prefect's own client does: a 503 (the server's database busy on
        a loaded host) is retried, for up to a minute."""
        deployment = self.deployment_id(name)
        deadline = time.monotonic() + 60
        while True:
            reply = httpx.post(f"{self.api}/deployments/{deployment}/create_flow_run", json={},
                               timeout=30)
            if reply.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(2)
        reply.raise_for_status()
        return reply.json()["id"]

    def state(self, flow_run: str) -> str:
        reply = httpx.get(f"{self.api}/flow_runs/{flow_run}", timeout=30)
        reply.raise_for_status()
        return reply.json()["state"]["type"]

    def wait_completed(self, flow_run: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            state = self.state(flow_run)
            if state == "COMPLETED":
                return
            assert state not in {"FAILED", "CRASHED", "CANCELLED"}, f"{state}\n{self.output()}"
            time.sleep(2)
        raise AssertionError(f"flow run not completed in {timeout}s\n{self.output()}")


def start_schedule(home: Path, tmp_path: Path) -> Schedule:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(FAST_TRAINING, PAD_HOME=str(home))
    log = tmp_path / f"schedule-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "schedule", "--port", str(port)], env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    return Schedule(process, home, f"http://127.0.0.1:{port}/api", log)


def stop_and_check_nothing_is_left(schedule: Schedule, signum: int) -> float:
    tree = schedule.tree()
    assert len(tree) >= 3, "the command, the server and the runner"
    started = time.monotonic()
    os.kill(schedule.process.pid, signum)  # the command alone, as `kill` or Ctrl-C would
    alive = still_running(tree)
    elapsed = time.monotonic() - started
    assert not alive, f"still running after {STOP_WITHIN}s: {alive}\n{schedule.output()}"
    return elapsed


def still_running(tree: list[psutil.Process]) -> list[str]:
    """The processes of `tree` still running STOP_WITHIN seconds from now (then killed), each
    as 'pid command line'.

    A zombie has exited (nothing runs, no port or file is held); it only waits for its new
    parent, this machine's PID 1, to collect its exit status: it does not count."""
    _, alive = psutil.wait_procs(tree, timeout=STOP_WITHIN)
    running = [_described(process) for process in alive if not _zombie(process)]
    for process in alive:
        process.kill()
    return running


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())[:160]}"
    except psutil.Error:
        return str(process.pid)


def _zombie(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def records(home: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (home / "runs").glob("*.json")),
                  key=lambda r: r["started_at"] + r["run_id"])


def publication(home: Path) -> tuple[str, str]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        run_id, version = con.execute("select run_id, model_version from ml.publication"
                                      ).fetchone()
        scored = con.execute("select distinct model_version from serving.client_scores"
                             ).fetchall()
    finally:
        con.close()
    assert scored == [(version,)]
    return run_id, version


@pytest.fixture
def schedule_home(tmp_path: Path, small_raw: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(small_raw, home / "raw")
    return home


@pytest.fixture
def schedule(schedule_home: Path, tmp_path: Path) -> Iterator[Schedule]:
    """`pad schedule` running on a free port; whatever a failed test leaves is killed."""
    started = start_schedule(schedule_home, tmp_path)
    try:
        yield started
    finally:
        if started.process.poll() is None:
            for process in started.tree():
                process.kill()


@pytest.mark.slow
@pytest.mark.dbt
def test_schedule_runs_both_deployments_and_stops_on_sigint(schedule: Schedule) -> None:
    home = schedule.home
    schedule.wait_completed(schedule.trigger("daily-refresh"))
    [daily] = records(home)
    assert daily["status"] == "success" and daily["published"] is True
    assert daily["retrained"] is True  # no champion yet
    assert publication(home) == (daily["run_id"], daily["model_version"])

    schedule.wait_completed(schedule.trigger("weekly-retrain"))
    weekly = records(home)[-1]
    assert weekly["run_id"] != daily["run_id"]
    assert weekly["status"] == "success" and weekly["published"] and weekly["retrained"]
    assert publication(home) == (weekly["run_id"], weekly["model_version"])
    pointer = json.loads((home / "models" / "champion.json").read_text())
    assert pointer["model_version"] == weekly["model_version"]

    elapsed = stop_and_check_nothing_is_left(schedule, signal.SIGINT)
    assert schedule.process.wait(timeout=1) == 0
    output = schedule.output()
    assert "temporary server" not in output.lower(), output
    assert "Traceback" not in output, output
    print(f"stopped in {elapsed:.1f}s")


@pytest.mark.slow
@pytest.mark.dbt
def test_sigterm_mid_run_stops_everything_and_records_the_run_failed(schedule: Schedule
                                                                     ) -> None:
    home = schedule.home
    schedule.trigger("daily-refresh")
    deadline = time.monotonic() + 300
    while "refresh: validated and loaded" not in schedule.output():
        assert time.monotonic() < deadline, schedule.output()
        assert schedule.process.poll() is None, schedule.output()
        time.sleep(0.2)
    time.sleep(3)  # inside the dbt marts build, whose queries run in dbt's worker threads
    assert list((home / "build").glob("refresh-*.duckdb")), schedule.output()
    stop_and_check_nothing_is_left(schedule, signal.SIGTERM)
    [run] = records(home)
    assert run["status"] == "failed" and run["message"] == "stopped by SIGTERM", run
    assert not (home / "warehouse.duckdb").exists()
    assert not list((home / "build").glob("refresh-*")), "build file removed"


@pytest.mark.slow
def test_sigkill_of_the_command_leaves_no_orphan(schedule: Schedule) -> None:
    schedule.deployment_id("daily-refresh")
    tree = schedule.tree()
    os.kill(schedule.process.pid, signal.SIGKILL)
    alive = still_running(tree)
    assert not alive, f"orphans after SIGKILL: {alive}\n{schedule.output()}"
