"""Read-only lookups on the published warehouse's `serving` schema — the only SQL of the package.

Owns: opening `$PAD_HOME/warehouse.duckdb` read-only, moving to a newly published file, and every
query the API and the dashboard run (no Panel, no HTTP here). By subject:
- `snapshots`   — the published file's snapshots, cursor pool, per-snapshot memo, and every
                  client's index and one-row tables in memory;
- `sql`         — errors, limits and SQL helpers;
- `clients`     — health, id-prefix search, a client's record and score;
- `scores`      — explanations (drivers, families, reasons) read by blocks;
- `comparisons` — features, histograms, scatter, similar clients;
- `portfolio`   — the champion model and the portfolio;
- `facade`      — `Lookup`, the one object callers hold.
"""
from dashboard.lookup.clients import id_prefix_ranges
from dashboard.lookup.facade import Lookup
from dashboard.lookup.snapshots import ClientIndex, ClientRows, FileKey, positions_in
from dashboard.lookup.sql import (
    MAX_ID,
    MAX_LIMIT,
    PUBLISHED,
    SIMILAR_K,
    ClientNotFound,
    InvalidRequest,
    S,
    WarehouseUnavailable,
)

__all__ = [
    "MAX_ID",
    "MAX_LIMIT",
    "PUBLISHED",
    "SIMILAR_K",
    "ClientIndex",
    "ClientNotFound",
    "ClientRows",
    "FileKey",
    "InvalidRequest",
    "Lookup",
    "S",
    "WarehouseUnavailable",
    "id_prefix_ranges",
    "positions_in",
]
