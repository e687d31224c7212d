"""SQL shared by the raw-data modules: the schema the load writes, identifier and literal
quoting, a loaded table's column statistics."""
from __future__ import annotations

from typing import Any

import duckdb

RAW_SCHEMA = "raw"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_stats(con: duckdb.DuckDBPyConnection, table: str,
                 columns: list[str]) -> list[dict[str, Any]]:
    """DuckDB's statistics of columns of raw.<table> (min, max, has_null, has_no_null), read
    from metadata without a scan; {} for a column without them or an empty table. They bound
    every value written (NaN above +inf), so a check can skip its scan when they rule it out."""
    found = con.execute("SELECT " + ", ".join(f"stats({c})" for c in columns)
                        + f" FROM {RAW_SCHEMA}.{table} LIMIT 1").fetchone()
    if found is None:
        return [{} for _ in columns]
    return [stats if isinstance(stats, dict) else {} for stats in found]
