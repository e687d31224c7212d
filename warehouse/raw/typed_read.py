"""The typed read of one raw file into schema `raw`: one DuckDB pass (no Python row loops) that
checks malformed rows, wrong field counts, invalid UTF-8, non-numeric values, non-integral or
non-finite numbers; each failure becomes one `BadInput` line naming file, physical line
(header = line 1), column and value.

Good input takes the fast path: one read straight into the table, without a rejects table and
with only the integer check in the SELECT; non-finite floats are found afterwards in the table's
own min/max statistics (no scan). Any failure re-reads the file on the checked path (rejects
table, every value checked), which names the first bad row: the slow path runs on bad input only.
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import duckdb

from warehouse.errors import BadInput, RunFailure
from warehouse.raw.keys import iter_records
from warehouse.raw.layout import HEADER_MAX_BYTES, FileLayout, shorten
from warehouse.raw.schema import Column, Table
from warehouse.raw.sql import RAW_SCHEMA, column_stats, quote_ident, quote_literal

REJECTS_KEPT = 10_000  # bounds memory when a whole file is bad; the first error is what we report
INT64_LIMIT = 9.2e18  # below 2**63, so the DOUBLE -> BIGINT cast cannot overflow
BAD_VALUE_MARK = "PAD_BAD_VALUE"
SCAN_CHUNK_BYTES = 16 * 1024 * 1024


def read_types(layout: FileLayout) -> dict[str, str]:
    """DuckDB types for the read, in file order.

    Integers are read as DOUBLE and checked before the BIGINT cast, because DuckDB's CSV reader
    silently rounds '1.5' (and accepts '0x10') when asked for BIGINT.
    """
    types = {}
    for name in layout.read_names():
        if name.startswith("__extra_"):
            types[name] = "VARCHAR"
        else:
            types[name] = "VARCHAR" if layout.table.column(name).dtype == "str" else "DOUBLE"
    return types


def select_expression(column: Column, check_floats: bool = True) -> str:
    """Cast one read column to its warehouse type; a bad number aborts with a marked error."""
    src = quote_ident(column.name)
    bad = f"error(concat('{BAD_VALUE_MARK}|{column.name}|', CAST({src} AS VARCHAR)))"
    if column.dtype == "int":
        ok = f"{src} IS NULL OR ({src} = trunc({src}) AND abs({src}) < {INT64_LIMIT})"
        return f"CASE WHEN {ok} THEN CAST({src} AS BIGINT) ELSE {bad} END AS {column.sql_name}"
    if column.dtype == "float" and check_floats:
        ok = f"{src} IS NULL OR isfinite({src})"
        return f"CASE WHEN {ok} THEN {src} ELSE {bad} END AS {column.sql_name}"
    return f"{src} AS {column.sql_name}"


def read_table(con: duckdb.DuckDBPyConnection, layout: FileLayout) -> int:
    """CREATE raw.<table> from the CSV; raise the first bad row as one line; row count."""
    try:
        con.execute(read_sql(layout, fast=True))
        clean = floats_are_finite(con, layout.table)
    except duckdb.Error as exc:
        clean, failure = False, exc
    else:
        failure = None
    if not clean:
        read_checked_or_raise(con, layout, failure)
    rows = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{layout.table.name}").fetchone()[0]
    if rows == 0:
        raise BadInput(f"{layout.file}: no data rows (header only)")
    return rows


def read_sql(layout: FileLayout, fast: bool) -> str:
    """The CREATE TABLE ... AS SELECT ... FROM read_csv(...) of one file.

    fast: no rejects table, floats unchecked (see `floats_are_finite`), integers still checked
    (their fraction is gone after the cast); else the checked read that names the bad row.
    """
    name = layout.table.name
    columns = ", ".join(f"{quote_literal(k)}: {quote_literal(v)}"
                        for k, v in read_types(layout).items())
    select = ",\n  ".join(select_expression(c, check_floats=not fast)
                          for c in layout.table.columns)
    rejects = "" if fast else (
        f", store_rejects = true, rejects_table = 'rejects_{name}', "
        f"rejects_scan = 'rejects_scan_{name}', rejects_limit = {REJECTS_KEPT}")
    return f"""
        CREATE OR REPLACE TABLE {RAW_SCHEMA}.{name} AS
        SELECT {select}
        FROM read_csv({quote_literal(str(layout.path))},
            columns = {{{columns}}}, header = true, auto_detect = false,
            delim = ',', quote = '"', escape = '"', null_padding = false,
            strict_mode = true{rejects})
    """


def floats_are_finite(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    """True when no float column of the loaded table holds inf or NaN.

    Read from the table's min/max statistics (metadata, no scan): they bound every value
    written, and NaN sorts above +inf. A column without statistics is counted instead.
    """
    floats = [c for c in table.columns if c.dtype == "float"]
    if not floats:
        return True
    for column, stats in zip(floats, column_stats(con, table.name, [c.sql_name for c in floats]),
                             strict=True):
        if stats.get("has_no_null") is False:
            continue  # only NULLs
        bounds = stats.get("min"), stats.get("max")
        if None in bounds:
            if not column_is_finite(con, table, column):
                return False
        elif not all(math.isfinite(float(b)) for b in bounds):
            return False
    return True


def column_is_finite(con: duckdb.DuckDBPyConnection, table: Table, column: Column) -> bool:
    bad = con.execute(f"SELECT count(*) FILTER (WHERE NOT isfinite({column.sql_name})) "
                      f"FROM {RAW_SCHEMA}.{table.name}").fetchone()[0]
    return bad == 0


def read_checked_or_raise(con: duckdb.DuckDBPyConnection, layout: FileLayout,
                          failure: duckdb.Error | None) -> None:
    """The slow path: re-read with every check to name the first bad row, and raise it."""
    name = layout.table.name
    try:
        con.execute(read_sql(layout, fast=False))
    except duckdb.Error as exc:
        raise_bad_value(exc, layout)
    raise_first_reject(con, f"rejects_{name}", layout)
    # The checked read accepted what the fast read refused: report what the fast read saw.
    seen = failure or "a float column's statistics show inf or NaN"
    raise RunFailure(f"{layout.file}: reading failed: {seen}")


def raise_first_reject(con: duckdb.DuckDBPyConnection, rejects: str, layout: FileLayout) -> None:
    """Turn the earliest rejected row into one BadInput line (nothing rejected: return)."""
    found = con.execute(f"""
        SELECT line_byte_position, column_idx, column_name, error_type, csv_line, error_message
        FROM {rejects} ORDER BY line_byte_position, byte_position LIMIT 1
    """).fetchone()
    if found is None:
        return
    line_pos, column_idx, column_name, error_type, csv_line, message = found
    # A short row yields one reject per missing field: count rows, not rejects.
    total = con.execute(f"SELECT count(DISTINCT line_byte_position) FROM {rejects}").fetchone()[0]
    line, raw_line = locate_reject(layout.path, line_pos)
    try:
        # DuckDB only checks UTF-8 in text columns and shows bad bytes as '?' in `csv_line`;
        # the line's own bytes tell an encoding problem from a bad number, and give the value.
        csv_line = raw_line.decode("utf-8") if raw_line else csv_line
    except UnicodeDecodeError:
        error_type = "INVALID ENCODING"
    text = describe_reject(error_type, column_idx, column_name, csv_line, message)
    more = ""
    if total > 1:
        plus = "+" if total >= REJECTS_KEPT else ""
        more = f" ({total - 1:,}{plus} more bad rows in this file)"
    raise BadInput(f"{layout.file}: line {line}{text}{more}")


def locate_reject(path: Path, line_byte_position: int) -> tuple[int, bytes]:
    """Physical line number (header = 1) and bytes of the line a reject starts on.

    DuckDB's own `line` counts CSV records, so it is wrong after a quoted field spanning lines;
    `line_byte_position` is exact but 1-based and points just past the previous record: at the
    row itself, at the '\n' of the previous line's CRLF, or at blank lines DuckDB skipped. So:
    count the newlines before it, then step over what is left of blank or half-read lines.
    """
    offset = max(line_byte_position - 1, 0)
    line = count_newlines(path, offset) + 1
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := handle.readline(HEADER_MAX_BYTES):
            if chunk.strip(b"\r\n"):
                return line, chunk.rstrip(b"\r\n")
            line += chunk.endswith(b"\n")
    return line, b""


def count_newlines(path: Path, end: int) -> int:
    """Number of '\n' in the first `end` bytes of a file, read in chunks."""
    newlines = 0
    with path.open("rb") as handle:
        while end > 0:
            chunk = handle.read(min(SCAN_CHUNK_BYTES, end))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            end -= len(chunk)
    return newlines


def describe_reject(error_type: str, column_idx: int | None, column_name: str | None,
                    csv_line: str | None, message: str) -> str:
    """The part of the message after 'file: line N' for one DuckDB reject."""
    expected = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message or "")
    if error_type == "CAST":
        value = field_value(csv_line, column_idx, message)
        return f", column {column_name}: {shorten(value)!r} is not a number"
    if error_type == "MISSING COLUMNS" and expected:
        return (f": expected {expected[1]} fields, found {expected[2]}"
                " (truncated or malformed row)")
    if error_type == "TOO MANY COLUMNS" and expected:
        return f": expected {expected[1]} fields, found {expected[2]}"
    if error_type in ("INVALID ENCODING", "INVALID UNICODE"):
        return ": invalid UTF-8 byte sequence (the file must be UTF-8 encoded)"
    if error_type == "UNQUOTED VALUE":
        return ": unterminated or misplaced quote"
    if error_type == "LINE SIZE OVER MAXIMUM":
        return ": line too long (not a CSV row?)"
    return f": {error_type.lower()}: {message}"


def field_value(csv_line: str | None, column_idx: int | None, message: str) -> str:
    """The offending field's text: parsed from the rejected line, else from DuckDB's message."""
    if csv_line and column_idx:
        fields = next(csv.reader([csv_line.strip("\r\n")]), [])
        if 0 < column_idx <= len(fields):
            return fields[column_idx - 1]
    quoted = re.search(r'Could not convert string "(.*)" to', message or "")
    return quoted[1] if quoted else "?"


def raise_bad_value(exc: duckdb.Error, layout: FileLayout) -> None:
    """A marked error from `select_expression`: find the value's line in Python and raise.

    Only reached on bad input, so the Python scan (which stops at the value) is affordable.
    """
    marked = re.search(rf"{BAD_VALUE_MARK}\|([^|]+)\|", str(exc))
    if not marked:
        raise RunFailure(f"{layout.file}: reading failed: {exc}") from None
    column = layout.table.column(marked[1])
    index = layout.field_index(column.name)
    for line, fields in iter_records(layout.path):
        if index < len(fields):
            reason = number_problem(fields[index], column.dtype)
            if reason:
                raise BadInput(f"{layout.file}: line {line}, column {column.name}: "
                               f"{shorten(fields[index])!r} {reason}") from None
    raise RunFailure(f"{layout.file}: column {column.name}: {exc}") from None


def number_problem(text: str, dtype: str) -> str | None:
    """Why a field DuckDB parsed as a number is unacceptable, mirroring `select_expression`."""
    if text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return "is not a number"
    if not math.isfinite(value):
        return "is not a finite number"
    if dtype == "int" and value != math.trunc(value):
        return "is not an integer"
    if dtype == "int" and abs(value) >= INT64_LIMIT:
        return "is out of the integer range"
    return None

