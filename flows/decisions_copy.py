"""The decision log at each refresh: copy it into the published warehouse, check its chain.

A full refresh copies the log with dbt (model `serving.decisions`). When the raw inputs are
unchanged nothing else is rebuilt: if the log differs from the published copy, the published
file is copied to a private build file, `serving.decisions` is replaced there and the file is
published atomically — otherwise nothing is written (the unchanged refresh stays instant).
Either way the store is read read-only, and a broken chain — or entries missing since the
previous copy (a truncated tail leaves a valid shorter chain) — raises a `decision_chain` alert.
"""
from __future__ import annotations

from typing import Any

import duckdb

from flows.publish import publish, remove_build, run_build_path
from warehouse.alerts import raise_alert
from warehouse.config import PadPaths
from warehouse.database_files import copy_database
from warehouse.decisions.anchor import LogHead, copied_head, head_of, lost_since
from warehouse.decisions.chain import verify_chain
from warehouse.decisions.export import log_table
from warehouse.decisions.store import read_log


def republish_with_log(paths: PadPaths, run_id: str, rows: list[dict[str, Any]]) -> None:
    """A copy of the published warehouse with a fresh serving.decisions, published atomically."""
    build = run_build_path(paths, run_id)
    try:
        copy_database(paths.warehouse, build)
        con = duckdb.connect(str(build))
        try:
            table = log_table(rows)
            con.register("decision_log", table)
            con.execute("create or replace table serving.decisions as "
                        "select * from decision_log")
        finally:
            con.close()
        publish(build, paths)
    except BaseException:
        remove_build(build)
        raise


def refresh_log_copy(paths: PadPaths, run_id: str) -> bool:
    """Unchanged inputs: republish only when the log moved since the published copy."""
    rows = read_log(paths)
    if copied_head(paths.warehouse) == head_of(rows):
        return False
    republish_with_log(paths, run_id, rows)
    return True


def check_log(paths: PadPaths, run_id: str, previous: LogHead | None) -> str | None:
    """Alert (kind `decision_chain`) when the chain is broken or lost entries since `previous`
    (the copy published before this run); returns the alert message, None when all is well."""
    rows = read_log(paths)
    result = verify_chain(rows)
    message = result.render() if not result.valid else lost_since(rows, previous)
    if message:
        raise_alert(paths, "decision_chain", message, severity="critical",
                    refresh_run_id=run_id, details={"entries": len(rows),
                                                    "broken_entry": result.broken_entry})
    return message
