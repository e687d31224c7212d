"""Scores and explanations: a client's drivers, families and reasons, read by blocks of clients
(`dashboard.blocks`) from the many-rows-per-client serving tables."""
from __future__ import annotations

import math
from typing import Any

import duckdb

from dashboard.blocks import BlockedTable, records
from dashboard.lookup.portfolio import champion
from dashboard.lookup.snapshots import (
    Snapshot,
    Snapshots,
    client_index,
    client_row,
    require_client,
)
from dashboard.lookup.sql import S, WarehouseUnavailable, check_id
from dashboard.schemas import Explanation

DRIVER_FIELDS = ("rank", "feature_name", "feature_label", "family", "feature_value",
                 "shap_value", "points")
# the many-rows-per-client tables read through dashboard.blocks, and the order of their rows
BLOCKED_SQL = {
    table: f"select sk_id_curr, {columns} from {S}.{table} "
           f"where sk_id_curr between $1 and $2 order by sk_id_curr, {order}"
    for table, columns, order in (
        ("client_drivers", ", ".join(DRIVER_FIELDS), "rank"),
        ("client_families", "family, family_label, shap_value, points", "family"),
        ("client_reasons", "rank, reason_code, reason_text, points", "rank"),
        ("similar_clients", "rank, neighbour_id, distance", "rank, neighbour_id"))}


def blocked_rows(snap: Snapshot, cur: duckdb.DuckDBPyConnection, table: str,
                 sk_id_curr: int) -> dict[str, list[Any]]:
    """The client's rows of a many-rows-per-client table (`BLOCKED_SQL`), one list per
    column; the caller has checked that the client exists."""
    blocked = snap.cached(f"blocked:{table}", lambda: BlockedTable(
        name=table, sql=BLOCKED_SQL[table], client_ids=client_index(snap, cur).ids,
        block_clients=snap.block_clients))
    return blocked.rows(cur, sk_id_curr, snap.cached)


def explanation(snapshots: Snapshots, sk_id_curr: int) -> Explanation:
    """Drivers (top contributions), families (all contributions summed) and reasons."""
    check_id(sk_id_curr)
    with snapshots.session() as (snap, cur):
        scored = client_row(snap, cur, "client_scores", sk_id_curr)
        require_client(snap, cur, sk_id_curr)
        drivers = records(blocked_rows(snap, cur, "client_drivers", sk_id_curr),
                          DRIVER_FIELDS)
        families = records(blocked_rows(snap, cur, "client_families", sk_id_curr),
                           ("family", "family_label", "shap_value", "points"))
        reasons = records(blocked_rows(snap, cur, "client_reasons", sk_id_curr),
                          ("rank", "reason_code", "reason_text", "points"))
        base_value, base_points = _base(snap, cur, scored, families)
    # one validation of the whole tree (in pydantic's core) rather than ~45 constructors
    return Explanation.model_validate({
        "sk_id_curr": sk_id_curr, "model_version": scored["model_version"],
        "base_value": base_value, "base_points": base_points,
        "score": int(scored["score"]), "drivers": drivers,
        "families": sorted(families, key=lambda f: (f["points"] is None, f["points"] or 0,
                                                    f["family"])),
        "reasons": reasons})


def _base(snap: Snapshot, cur: duckdb.DuckDBPyConnection, head: dict[str, Any],
          families: list[dict[str, Any]]) -> tuple[float, float]:
    """The SHAP base value (log-odds) and its points: from the champion's model_runs row
    when it has them, else solved from this client (its contributions sum to its score)."""
    try:
        run = champion(snap, cur)
        extra = run.model_extra or {}
        if extra.get("base_value") is not None and extra.get("base_points") is not None:
            return float(extra["base_value"]), float(extra["base_points"])
    except WarehouseUnavailable:
        pass
    p = head["probability_default"]
    log_odds = math.log(p / (1 - p)) if p is not None and 0 < p < 1 else float("nan")
    base_value = log_odds - sum(f["shap_value"] or 0.0 for f in families)
    base_points = head["score"] - sum(f["points"] or 0.0 for f in families)
    return (base_value if math.isfinite(base_value) else 0.0), base_points
