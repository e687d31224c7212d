"""The decision log as an Arrow table: `pad decisions export` writes it to Parquet and the
refresh copies it into the published warehouse as `serving.decisions`."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# JSON columns stay JSON text: the exact content the chain hashed, readable by any SQL engine
SCHEMA = pa.schema([
    ("entry_id", pa.int64()),
    ("sk_id_curr", pa.int64()),
    ("kind", pa.string()),
    ("decision", pa.string()),
    ("model_version", pa.string()),
    ("probability_default", pa.float64()),
    ("score", pa.int64()),
    ("threshold", pa.float64()),
    ("reasons", pa.string()),
    ("what_if_edits", pa.string()),
    ("actor", pa.string()),
    ("comment", pa.string()),
    ("created_at", pa.timestamp("us", tz="UTC")),
    ("prev_hash", pa.string()),
    ("entry_hash", pa.string()),
])


def log_table(raw_entries: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Stored rows (JSON as text) → an Arrow table with `created_at` as a UTC timestamp."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for row in raw_entries:
        for name in SCHEMA.names:
            value = row[name]
            columns[name].append(datetime.fromisoformat(value) if name == "created_at" else value)
    return pa.table(columns, schema=SCHEMA)


def write_parquet(raw_entries: Sequence[Mapping[str, Any]], out: Path) -> int:
    """Write the log to `out` atomically (a temporary file renamed into place)."""
    table = log_table(raw_entries)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    pq.write_table(table, partial)
    partial.replace(out)
    return table.num_rows
