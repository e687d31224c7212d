"""Signals and child processes of the long-running commands (`pad refresh`, `pad schedule`).

- `stop_signal_raises()`: SIGTERM becomes an exception in the main thread (as SIGINT already is),
  so a run stopped by a signal unwinds through its handlers and records itself as failed;
- `die_with_parent()`: a process asks the kernel for SIGTERM when its parent dies (Linux
  PR_SET_PDEATHSIG), so a `pad schedule` killed with SIGKILL leaves no orphan behind;
- `stop_process_group()`: SIGTERM to a child's whole process group, SIGKILL after a grace period;
- `kill_own_group_when_orphaned()`: the same, done by a group leader to itself once its parent
  is gone (no one else is left to cut a slow graceful shutdown short).
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1


class Stopped(BaseException):
    """A stop signal. A BaseException like KeyboardInterrupt, so `except Exception` never
    swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


_RECEIVED: list[str] = []   # stop signals this process received inside stop_signal_raises
_DEPTH = 0                  # nested stop_signal_raises scopes (the inner ones keep _RECEIVED)


def stop_message(exc: BaseException) -> str | None:
    """'stopped by SIGTERM' / 'stopped by SIGINT' for the exceptions stop signals become, or
    for any failure that follows a stop signal (dbt catches the exception a signal raises in
    its code and reports a failed node instead)."""
    if _RECEIVED:
        return _RECEIVED[-1]
    if isinstance(exc, Stopped):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "stopped by SIGINT"
    if type(exc).__name__ == "TerminationSignal":  # Prefect's own SIGTERM bridge in flow runs
        return "stopped by SIGTERM"
    return None


@contextmanager
def stop_signal_raises() -> Iterator[None]:
    """Raise `Stopped` on SIGTERM in the main thread, unless someone (Prefect's engine in a
    deployment run) already turns SIGTERM into an exception of its own: then its handler still
    raises, and the signal is remembered for `stop_message`.

    Prefect's flow engine installs its own SIGTERM bridge for the length of every flow run,
    over this one: a flow body enters this scope again, or a signal that lands inside a DuckDB
    call (which turns the raised exception into 'Query interrupted') would go unremembered."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_stop(signum: int, frame: object) -> None:
        _RECEIVED.append(f"stopped by {signal.Signals(signum).name}")
        if callable(previous):
            previous(signum, frame)
        raise Stopped(signum)

    global _DEPTH
    if _DEPTH == 0:
        _RECEIVED.clear()
    _DEPTH += 1
    signal.signal(signal.SIGTERM, on_stop)
    try:
        yield
    finally:
        _DEPTH -= 1
        signal.signal(signal.SIGTERM, previous)


def die_with_parent(expected_parent: int | None = None) -> None:
    """Ask for SIGTERM when the parent process dies (Linux only; elsewhere a no-op). If the
    parent is already gone (it died before the request), stop now."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), signal.SIGTERM)


def child_of_this_process() -> dict:
    """Popen keywords for a child that has its own process group (so it and everything it
    starts can be stopped together) and dies with this process."""
    parent = os.getpid()
    return {"start_new_session": True, "preexec_fn": lambda: die_with_parent(parent)}


def kill_own_group_when_orphaned(parent: int, grace: float, poll: float = 0.2) -> None:
    """Start a daemon thread that SIGKILLs this process's group `grace` seconds after `parent`
    has died. The parent's death already sent SIGTERM (`die_with_parent`); the graceful stop
    that starts may wait on a server that died at the same moment (Prefect's runner retries
    its calls to pause the deployments for well over 10 s)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        time.sleep(grace)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="orphan-watchdog", daemon=True).start()


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the process group led by `process`, SIGKILL to what is left after `grace`
    seconds; returns once the leader is reaped and the group is empty."""
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not group_alive(pgid):
            return
        time.sleep(0.1)
    _signal_group(pgid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 5  # SIGKILL cannot be refused; only the kernel delays it
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass
