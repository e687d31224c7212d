"""Stop signals during a refresh: a SIGTERM is remembered even when Prefect's engine has put its
own SIGTERM bridge over ours and the signal lands inside a DuckDB call (DuckDB turns the
exception the handler raises into RuntimeError('Query interrupted'))."""
from __future__ import annotations

import os
import signal
import threading

import duckdb
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
