"""Stop signals during a refresh: a SIGTERM is remembered even when Prefect's engine has put its
own SIGTERM bridge over ours and the signal lands inside a DuckDB call (DuckDB turns the
exception the handler raises into RuntimeError('Query interrupted')). A supervised child whose
supervisor is killed outright does not outlive it by more than its grace."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import psutil
import pytest
from prefect.utilities.engine import capture_sigterm

from flows.processes import stop_message, stop_signal_raises

QUERY = "select count(*) from range(400000000) t(i) where i % 7 = 3"  # > 1 s


def test_sigterm_inside_a_duckdb_call_under_prefects_bridge_is_remembered() -> None:
    con = duckdb.connect()
    # the refresh's layout: its own scope, the flow run's bridge, the flow body's scope
    with stop_signal_raises(), capture_sigterm(), stop_signal_raises():
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        with pytest.raises(BaseException) as caught:
            con.execute(QUERY).fetchall()
    assert stop_message(caught.value) == "stopped by SIGTERM", repr(caught.value)


# a child whose graceful stop never ends (SIGTERM ignored, as a runner waiting on a dead server),
# with a process of its own in its group; it prints both pids
STUCK_CHILD = """
import os, signal, subprocess, sys, time
from flows.processes import kill_own_group_when_orphaned
signal.signal(signal.SIGTERM, signal.SIG_IGN)
kill_own_group_when_orphaned(os.getppid(), grace=0.5)
worker = subprocess.Popen([sys.executable, "-c",
                           "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
print(os.getpid(), worker.pid, flush=True)
time.sleep(60)
"""
SUPERVISOR = f"""
import subprocess, sys, time
from flows.processes import child_of_this_process
subprocess.Popen([sys.executable, "-c", {STUCK_CHILD!r}], **child_of_this_process())
time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_child_stuck_in_its_graceful_stop_dies_with_its_group_after_the_grace() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE,
                                  text=True)
    pids = [int(pid) for pid in supervisor.stdout.readline().split()]
    assert len(pids) == 2 and all(_running(pid) for pid in pids)
    supervisor.kill()
    supervisor.wait()
    deadline = time.monotonic() + 5.0
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in pids if _running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"still running 5 s after their supervisor was killed: {survivors}"
