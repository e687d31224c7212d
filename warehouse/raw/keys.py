"""Key checks after the typed read: identifiers present, primary keys unique, a client in train or
in test but not both.

The read does not keep file order (preserve_insertion_order off: a cheaper parallel write), so
the checks are order-free SQL aggregates, and only on failure is the file walked in Python
(`iter_records`) to name the physical lines of the first offending row, as the messages promise.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warehouse.errors import BadInput, RunFailure
from warehouse.raw.schema import Table
from warehouse.raw.sql import RAW_SCHEMA, column_stats

if TYPE_CHECKING:
    from warehouse.raw.layout import FileLayout

# A composite key (id, month) with months in [-MONTH_SPAN + 1, 0] is checked as one bit per month
# per id (HUGEINT mask: 127 usable bits), grouping by id only: about 6x cheaper than grouping
# 27M (id, month) pairs at full scale. Other months fall back to the exact GROUP BY.
MONTH_SPAN = 127


def id_columns(table: Table) -> list[str]:
    """Identifier columns (SK_ID_*): primary and foreign keys must never be empty."""
    return [c.name for c in table.columns if c.name.startswith("SK_ID_")]


def check_identifiers(con: duckdb.DuckDBPyConnection, layout: FileLayout) -> None:
    """No empty identifier, and the primary key is unique within the file."""
    table = layout.table
    missing = columns_with_nulls(con, table.name, id_columns(table))
    if missing:
        raise_first_missing_identifier(layout, missing)
    if len(table.primary_key) == 2 and months_key_is_unique(con, table):
        return
    if table.primary_key:
        check_unique_key(con, layout)


def columns_with_nulls(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[str]:
    """Which of `columns` hold a NULL: the table's statistics rule most out without a scan."""
    stats = column_stats(con, table, [c.lower() for c in columns])
    maybe = [c for c, s in zip(columns, stats, strict=True) if s.get("has_null") is not False]
    if not maybe:
        return []
    nulls = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c.lower()} IS NULL)" for c in maybe)
        + f" FROM {RAW_SCHEMA}.{table}"
    ).fetchone()
    return [column for column, n in zip(maybe, nulls, strict=True) if n]


def raise_first_missing_identifier(layout: FileLayout, columns: list[str]) -> None:
    indexes = [(column, layout.field_index(column)) for column in columns]
    for line, fields in iter_records(layout.path):
        for column, index in indexes:
            if index >= len(fields) or not fields[index].strip():
                raise BadInput(f"{layout.file}: line {line}, column {column}: missing identifier")
    raise RunFailure(f"{layout.file}: empty {', '.join(columns)} found by SQL but not in the file")


def months_key_is_unique(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    """True when (id, month) is provably unique by the bit-per-month test; False: check exactly."""
    key, month = (c.lower() for c in table.primary_key)
    clashes, lowest, highest = con.execute(f"""
        SELECT count(*) FILTER (WHERE rows <> bit_count(months)), min(lowest), max(highest)
        FROM (
            SELECT count(*) AS rows, min({month}) AS lowest, max({month}) AS highest,
                   bit_or(CAST(1 AS HUGEINT) << CAST(
                       least(greatest(-{month}, 0), {MONTH_SPAN - 1}) AS HUGEINT)) AS months
            FROM {RAW_SCHEMA}.{table.name} GROUP BY {key}
        )
    """).fetchone()
    in_range = lowest is None or (lowest > -MONTH_SPAN and highest <= 0)
    return in_range and clashes == 0


def check_unique_key(con: duckdb.DuckDBPyConnection, layout: FileLayout) -> None:
    """Raise on the first row (file order) whose primary key appeared on an earlier row."""
    names = layout.table.primary_key
    cols = ", ".join(c.lower() for c in names)
    duplicated = con.execute(
        f"SELECT {cols} FROM {RAW_SCHEMA}.{layout.table.name} GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    if not duplicated:
        return
    # Error path only: walk the file for the first repeat of one of the duplicated keys.
    wanted = set(duplicated)
    indexes = [layout.field_index(c) for c in names]
    seen: dict[tuple, int] = {}
    for line, fields in iter_records(layout.path):
        value = record_key(fields, indexes)
        if value not in wanted:
            continue
        if value in seen:
            raise BadInput(f"{layout.file}: line {line}: duplicate {format_key(names, value)} "
                           f"(first seen on line {seen[value]})")
        seen[value] = line
    raise RunFailure(f"{layout.file}: duplicate {', '.join(names)} found by SQL, not in the file")


def check_application_keys(con: duckdb.DuckDBPyConnection,
                           layouts: dict[str, FileLayout]) -> None:
    """A client is either in train or in test, never both (one SK_ID_CURR space)."""
    shared = set(con.execute(f"""
        SELECT sk_id_curr FROM {RAW_SCHEMA}.application_test
        SEMI JOIN {RAW_SCHEMA}.application_train USING (sk_id_curr)
    """).fetchall())
    if not shared:
        return
    train, test = layouts["application_train"], layouts["application_test"]
    test_line, key = first_line_with_key(test, shared)
    train_line, _ = first_line_with_key(train, {key})
    raise BadInput(f"{test.file}: line {test_line}: duplicate SK_ID_CURR {key[0]} "
                   f"(also in {train.file} line {train_line})")


def first_line_with_key(layout: FileLayout, keys: set[tuple]) -> tuple[int, tuple]:
    index = [layout.field_index("SK_ID_CURR")]
    for line, fields in iter_records(layout.path):
        value = record_key(fields, index)
        if value in keys:
            return line, value
    raise RunFailure(f"{layout.file}: SK_ID_CURR shared with the other file not found in it")


def record_key(fields: list[str], indexes: list[int]) -> tuple:
    """A key as DuckDB holds it (BIGINT): the read accepted integral numbers such as '7.0'."""
    return tuple(as_integer(fields[i]) if i < len(fields) else None for i in indexes)


def as_integer(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return int(float(text))


def format_key(names: tuple[str, ...], values: tuple) -> str:
    if len(names) == 1:
        return f"{names[0]} {values[0]}"
    return "key " + ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def iter_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(physical start line, fields) of every data record, skipping blank lines as DuckDB does."""
    # errors="replace": only line counting matters here, and DuckDB does not check UTF-8 in
    # numeric columns.
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)  # header
        start = reader.line_num + 1
        for fields in reader:
            if fields:
                yield start, fields
            start = reader.line_num + 1
