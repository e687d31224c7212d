"""Clients and search: health of the published file, id-prefix search, a client's record and
its score (the one-row-per-client tables, read from memory)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np

from dashboard.lookup.snapshots import Snapshots, client_index, client_row
from dashboard.lookup.sql import (
    MAX_ID,
    MAX_LIMIT,
    InvalidRequest,
    S,
    WarehouseUnavailable,
    check_id,
)
from dashboard.schemas import ClientPage, ClientRecord, ClientScore, Health
from i18n import Message


def id_prefix_ranges(prefix: str) -> list[tuple[int, int]]:
    """Inclusive id ranges whose decimal writing starts with `prefix` (digits only).

    '123' → [123,123], [1230,1239], [12300,12399], … up to 19 digits: integer ranges let
    DuckDB compare integers instead of casting every id to text.
    """
    if not re.fullmatch(r"[0-9]{1,19}", prefix):
        raise InvalidRequest(Message("error", "search_prefix"))
    if prefix.startswith("0"):
        return [(0, 0)] if prefix == "0" else []
    base = int(prefix)
    ranges = []
    for extra in range(20 - len(prefix)):
        low, high = base * 10**extra, (base + 1) * 10**extra - 1
        if low > MAX_ID:
            break
        ranges.append((low, min(high, MAX_ID)))
    return ranges


def health(snapshots: Snapshots) -> Health:
    try:
        with snapshots.session() as (snap, cur):
            def summary() -> tuple[str | None, int]:
                row = cur.execute(
                    f"select any_value(model_version), count(*) from {S}.client_scores"
                ).fetchone()
                return row[0], int(row[1])

            version, clients = snap.cached("health", summary)
            published = datetime.fromtimestamp(snap.key.mtime_ns / 1e9, tz=UTC)
            return Health(status="ok", detail=f"serving {clients:,} scored clients",
                          warehouse=str(snapshots.warehouse), published_at=published,
                          model_version=version, clients=clients)
    except WarehouseUnavailable as exc:
        return Health(status="unavailable", detail=str(exc), warehouse=str(snapshots.warehouse))


def search_clients(snapshots: Snapshots, q: str | None = None, population: str | None = None,
                   decision: str | None = None, risk_band: str | None = None,
                   limit: int = 50, offset: int = 0) -> ClientPage:
    """Clients whose id starts with `q`, filtered, in id order, one page at a time."""
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_ID:
        raise InvalidRequest(Message("error", "search_page", most=MAX_LIMIT))
    ranges = id_prefix_ranges(q) if q else None
    with snapshots.session() as (snap, cur):
        index = client_index(snap, cur)
    if ranges is None:
        chosen = np.arange(len(index.ids))
    else:
        # ids are sorted: each prefix range is one contiguous slice
        bounds = [(np.searchsorted(index.ids, lo, "left"),
                   np.searchsorted(index.ids, hi, "right")) for lo, hi in ranges]
        chosen = np.concatenate([np.arange(a, b) for a, b in bounds] or [np.arange(0)])
        chosen.sort()
    keep = np.ones(len(chosen), dtype=bool)
    if population is not None:
        keep &= index.history[chosen] == (population == "history") \
            if population in ("history", "pending") else False
    for value, codes, labels in ((decision, index.decision, index.decisions),
                                 (risk_band, index.band, index.bands)):
        if value is not None:
            keep &= codes[chosen] == (labels.index(value) if value in labels else -2)
    chosen = chosen[keep]
    page = chosen[offset:offset + limit] if offset < len(chosen) else chosen[:0]
    return ClientPage(items=[index.summary(int(at)) for at in page], total=len(chosen),
                      limit=limit, offset=offset)


def client(snapshots: Snapshots, sk_id_curr: int) -> ClientRecord:
    check_id(sk_id_curr)
    with snapshots.session() as (snap, cur):
        return ClientRecord(**client_row(snap, cur, "clients", sk_id_curr))


def score(snapshots: Snapshots, sk_id_curr: int) -> ClientScore:
    check_id(sk_id_curr)
    with snapshots.session() as (snap, cur):
        return ClientScore(**client_row(snap, cur, "client_scores", sk_id_curr))
