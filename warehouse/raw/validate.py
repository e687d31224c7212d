"""Validation of the raw Kaggle files, and the typed read that performs it.

This module owns every check on the eight CSVs and the report of the quirks that are accepted:
- before any data is read (Python, first line only): empty file, header encoding, missing,
  duplicated and unknown columns; columns are matched by name, case-insensitively, in any order;
- during one typed, parallel DuckDB read per file into schema `raw` (rejects tables, no Python
  row loops): malformed rows, wrong field counts, invalid UTF-8, non-numeric values, non-integral
  or non-finite numbers;
- after the read (SQL, warehouse/raw/keys.py): header-only files, missing identifiers, duplicate
  primary keys (the application key across train and test too);
- the report: rows per table, orphans per relation, rare or unknown levels, sentinels, warnings.

Every failure is one `BadInput` line naming file, line (physical, header = line 1), column and value
where they apply. `load.py` publishes the same read into a warehouse file; `validate_raw` reads
into a scratch file and throws it away.
"""
from __future__ import annotations

import csv
import math
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.config import duckdb_memory_limit, duckdb_threads
from warehouse.errors import BadInput, RunFailure
from warehouse.profiling import PhaseTimes
from warehouse.raw.keys import check_application_keys, check_identifiers, iter_records
from warehouse.raw.schema import Column, Table, tables
from warehouse.raw.sources import RawFiles, open_raw

RAW_SCHEMA = "raw"
DATABASE_ALIAS = "pad_raw_load"
DAYS_SENTINEL = 365243  # "no date" in DAYS_* columns of the real files (FACTS quirks 1-2)
RARE_SHARE = 0.0005  # a known level under 0.05 % of a column's values is reported as rare
REJECTS_KEPT = 10_000  # bounds memory when a whole file is bad; the first error is what we report
HEADER_MAX_BYTES = 1 << 20
INT64_LIMIT = 9.2e18  # below 2**63, so the DOUBLE -> BIGINT cast cannot overflow
BAD_VALUE_MARK = "PAD_BAD_VALUE"
REPORT_MAX_LEVELS = 30
MISSING_SHOWN = 5
SCAN_CHUNK_BYTES = 16 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class TableStats:
    table: str
    file: str
    rows: int
    columns: int
    bytes: int


@dataclass(frozen=True)
class Orphans:
    """Child rows whose foreign key has no parent row (the real data has these)."""

    child: str
    column: str
    parent: str  # as the schema writes it, e.g. "application_{train|test}"
    rows: int
    keys: int

    @property
    def relation(self) -> str:
        return f"{self.child}.{self.column} -> {self.parent}"


@dataclass(frozen=True)
class RareLevel:
    table: str
    column: str
    level: str
    rows: int
    known: bool  # False: not in the schema's sample vocabulary


@dataclass(frozen=True)
class Sentinel:
    table: str
    column: str
    value: int
    rows: int


@dataclass
class ValidationReport:
    """What a validation found: accepted quirks and warnings (errors raise instead)."""

    source: str
    tables: list[TableStats] = field(default_factory=list)
    orphans: list[Orphans] = field(default_factory=list)
    rare_levels: list[RareLevel] = field(default_factory=list)
    sentinels: list[Sentinel] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: PhaseTimes = field(default_factory=PhaseTimes)  # where `seconds` went

    @property
    def rows(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def render(self) -> str:
        title = f"raw input {self.source}: valid, {self.total_rows:,} rows in {self.seconds:.1f} s"
        return "\n".join([title, *self.render_sections()])

    def render_sections(self) -> list[str]:
        """Everything but the title line (the load result reuses it)."""
        lines = render_tables(self.tables)
        lines += render_orphans(self.orphans)
        lines += render_levels(self.rare_levels)
        lines += render_sentinels(self.sentinels)
        if self.ignored_files:
            lines.append(f"ignored files: {', '.join(self.ignored_files)}")
        lines += [f"warning: {w}" for w in self.warnings]
        return lines


def render_tables(stats: list[TableStats]) -> list[str]:
    width = max((len(s.file) for s in stats), default=10)
    lines = ["", f"{'file':<{width}}  {'rows':>12}  {'columns':>7}  {'MB':>8}"]
    for s in stats:
        lines.append(f"{s.file:<{width}}  {s.rows:>12,}  {s.columns:>7}  {s.bytes / 1e6:>8.1f}")
    return lines


def render_orphans(orphans: list[Orphans]) -> list[str]:
    width = max((len(o.relation) for o in orphans), default=10)
    lines = ["", "orphans (accepted; child rows without a parent row):"]
    for o in orphans:
        lines.append(f"  {o.relation:<{width}}  {o.rows:>10,} rows  {o.keys:>9,} keys")
    return lines


def render_levels(levels: list[RareLevel]) -> list[str]:
    if not levels:
        return ["", "rare levels: none"]
    lines = ["", "rare levels (accepted; unknown = not in the schema's sample vocabulary):"]
    for lv in levels[:REPORT_MAX_LEVELS]:
        tag = "rare" if lv.known else "unknown"
        lines.append(f"  {lv.table}.{lv.column} = {lv.level!r}: {lv.rows:,} rows ({tag})")
    if len(levels) > REPORT_MAX_LEVELS:
        lines.append(f"  ... and {len(levels) - REPORT_MAX_LEVELS} more")
    return lines


def render_sentinels(sentinels: list[Sentinel]) -> list[str]:
    lines = ["", f"sentinels (accepted; {DAYS_SENTINEL} = no date):"]
    for s in sentinels:
        lines.append(f"  {s.table}.{s.column} = {s.value}: {s.rows:,} rows")
    return lines


# ---------------------------------------------------------------------------------------------
# Entry point for `pad validate`


def validate_raw(raw: Path, work_dir: Path) -> ValidationReport:
    """Check a raw folder or zip completely (typed read included) without keeping any output."""
    started = time.perf_counter()
    work_dir.mkdir(parents=True, exist_ok=True)
    scratch = work_dir / f".validate-{uuid.uuid4().hex[:12]}.duckdb"
    try:
        with open_raw(raw, work_dir) as files:
            con = open_database(scratch)
            try:
                report = read_checked(con, files)
            finally:
                con.close()
    finally:
        remove_database(scratch)
    report.seconds = time.perf_counter() - started  # zip extraction included
    return report


def open_database(path: Path, storage_version: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection writing to the file `path`, with the configured threads and memory.

    The file is attached under a fixed alias rather than opened directly: DuckDB names the
    catalog after the file, so a file called raw.duckdb would make `raw.<table>` ambiguous.
    """
    config: dict[str, str | int | bool] = {
        "threads": duckdb_threads(),
        "memory_limit": duckdb_memory_limit(),
        # Row order is not kept (a cheaper parallel write): key errors find their lines by
        # walking the file (warehouse/raw/keys.py), on the error path only.
        "preserve_insertion_order": False,
        # Spill next to the file (an in-memory main database would spill into the cwd).
        "temp_directory": str(path.with_name(path.name + ".tmp")),
    }
    options = f" (STORAGE_VERSION {quote_literal(storage_version)})" if storage_version else ""
    try:
        con = duckdb.connect(config=config)
        con.execute(f"ATTACH {quote_literal(str(path))} AS {DATABASE_ALIAS}{options}")
        con.execute(f"USE {DATABASE_ALIAS}")
    except duckdb.Error as exc:
        raise RunFailure(f"cannot open {path}: {exc}") from None
    return con


def remove_database(path: Path) -> None:
    """Remove a DuckDB file with its write-ahead log and spill folder, if any."""
    for extra in (path, path.with_name(path.name + ".wal")):
        extra.unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".tmp"), ignore_errors=True)


def read_checked(con: duckdb.DuckDBPyConnection, files: RawFiles) -> ValidationReport:
    """Read the eight files into schema `raw` of `con`, checking everything; return the report."""
    started = time.perf_counter()
    report = ValidationReport(source=str(files.origin), ignored_files=list(files.ignored))
    clock = report.phases
    with clock.phase("headers"):
        layouts = [read_header(files.paths[t.name], t, files.names[t.name])
                   for t in tables().values()]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for layout in layouts:
        with clock.phase(f"typed read {layout.table.name}"):
            rows = read_table(con, layout)
        with clock.phase(f"key checks {layout.table.name}"):
            check_identifiers(con, layout)
        report.tables.append(
            TableStats(layout.table.name, layout.file, rows, len(layout.table.columns),
                       layout.path.stat().st_size)
        )
        report.warnings += layout.warnings()
    with clock.phase("key checks train/test"):
        check_application_keys(con, {lay.table.name: lay for lay in layouts})
    with clock.phase("orphans"):
        report.orphans = count_orphans(con)
    with clock.phase("rare levels"):
        report.rare_levels = find_rare_levels(con)
    with clock.phase("sentinels"):
        report.sentinels = count_sentinels(con)
    report.seconds = time.perf_counter() - started
    return report


# ---------------------------------------------------------------------------------------------
# Header: first line only, in Python


@dataclass(frozen=True)
class FileLayout:
    """How one file lays out its columns: file order, matched to the schema by name."""

    table: Table
    file: str  # file name as the input spells it
    path: Path
    fields: tuple[str, ...]  # header fields as written (stripped)
    extras: tuple[str, ...]  # fields not in the schema: warned, not loaded

    def field_index(self, column: str) -> int:
        return [f.upper() for f in self.fields].index(column)

    def read_names(self) -> list[str]:
        """Unique names for DuckDB's `columns`: schema names, `__extra_<i>` for the rest."""
        known = {c.name for c in self.table.columns}
        return [f.upper() if f.upper() in known else f"__extra_{i}"
                for i, f in enumerate(self.fields)]

    def warnings(self) -> list[str]:
        notes = []
        if self.extras:
            notes.append(f"{self.file}: unknown column(s) not loaded: {', '.join(self.extras)}")
        known = set(self.table.column_names)
        in_file = [f.upper() for f in self.fields if f.upper() in known]
        if in_file != self.table.column_names:
            notes.append(f"{self.file}: columns in a different order than Kaggle's (mapped by name)")
        return notes


def read_header(path: Path, table: Table, file: str) -> FileLayout:
    """Check the header line: non-empty file, UTF-8, every schema column present exactly once."""
    with path.open("rb") as handle:
        first = handle.readline(HEADER_MAX_BYTES)
    if not first:
        raise BadInput(f"{file}: empty file (0 bytes)")
    if not first.endswith(b"\n") and len(first) == HEADER_MAX_BYTES:
        raise BadInput(f"{file}: line 1: header longer than {HEADER_MAX_BYTES} bytes (not a CSV?)")
    try:
        text = first.removeprefix(UTF8_BOM).decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise BadInput(f"{file}: line 1: invalid UTF-8 in the header") from None
    fields = tuple(f.strip() for f in next(csv.reader([text]), []))
    return match_header(fields, table, path, file)


def match_header(fields: tuple[str, ...], table: Table, path: Path, file: str) -> FileLayout:
    """Match header fields to schema columns by upper-cased name; raise on missing or twice."""
    upper = [f.upper() for f in fields]
    for name in upper:
        if name and upper.count(name) > 1:
            raise BadInput(f"{file}: line 1: column {name} appears more than once")
    if not any(upper):
        raise BadInput(f"{file}: line 1: empty header")
    missing = [c for c in table.column_names if c not in upper]
    if missing:
        raise BadInput(f"{file}: line 1: {describe_missing(missing, fields)}")
    known = set(table.column_names)
    extras = tuple(f or "(empty name)" for f in fields if f.upper() not in known)
    return FileLayout(table=table, file=file, path=path, fields=fields, extras=extras)


def describe_missing(missing: list[str], fields: tuple[str, ...]) -> str:
    """'missing column X' / 'missing columns X, Y and 3 more', with a hint for a wrong delimiter."""
    label = "column" if len(missing) == 1 else "columns"
    shown = ", ".join(missing[:MISSING_SHOWN])
    if len(missing) > MISSING_SHOWN:
        shown += f" and {len(missing) - MISSING_SHOWN} more"
    hint = ""
    if len(fields) == 1 and any(sep in fields[0] for sep in ";\t|"):
        hint = " (the delimiter must be a comma)"
    return f"missing {label} {shown}{hint}"


def shorten(value: str, limit: int = 60) -> str:
    """Keep a quoted value readable in a one-line message."""
    return value if len(value) <= limit else value[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Typed read: DuckDB, parallel, with rejects tables


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


def select_expression(column: Column) -> str:
    """Cast one read column to its warehouse type; a bad number aborts with a marked error."""
    src = quote_ident(column.name)
    bad = f"error(concat('{BAD_VALUE_MARK}|{column.name}|', CAST({src} AS VARCHAR)))"
    if column.dtype == "int":
        ok = f"{src} IS NULL OR ({src} = trunc({src}) AND abs({src}) < {INT64_LIMIT})"
        return f"CASE WHEN {ok} THEN CAST({src} AS BIGINT) ELSE {bad} END AS {column.sql_name}"
    if column.dtype == "float":
        ok = f"{src} IS NULL OR isfinite({src})"
        return f"CASE WHEN {ok} THEN {src} ELSE {bad} END AS {column.sql_name}"
    return f"{src} AS {column.sql_name}"


def read_table(con: duckdb.DuckDBPyConnection, layout: FileLayout) -> int:
    """CREATE raw.<table> from the CSV in one parallel pass; raise the first bad row; row count."""
    name = layout.table.name
    rejects, scan = f"rejects_{name}", f"rejects_scan_{name}"
    columns = ", ".join(f"{quote_literal(k)}: {quote_literal(v)}"
                        for k, v in read_types(layout).items())
    select = ",\n  ".join(select_expression(c) for c in layout.table.columns)
    sql = f"""
        CREATE OR REPLACE TABLE {RAW_SCHEMA}.{name} AS
        SELECT {select}
        FROM read_csv({quote_literal(str(layout.path))},
            columns = {{{columns}}}, header = true, auto_detect = false,
            delim = ',', quote = '"', escape = '"', null_padding = false, strict_mode = true,
            store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scan}',
            rejects_limit = {REJECTS_KEPT})
    """
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        raise_bad_value(exc, layout)
    raise_first_reject(con, rejects, layout)
    con.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {scan}")
    rows = con.execute(f"SELECT count(*) FROM {RAW_SCHEMA}.{name}").fetchone()[0]
    if rows == 0:
        raise BadInput(f"{layout.file}: no data rows (header only)")
    return rows


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


# ---------------------------------------------------------------------------------------------
# Accepted quirks: orphans, rare levels, sentinels


def parent_tables(spec: str) -> tuple[str, ...]:
    """'application_{train|test}' -> ('application_train', 'application_test')."""
    braced = re.fullmatch(r"(.*)\{(.+)\}(.*)", spec)
    if not braced:
        return (spec,)
    head, options, tail = braced.groups()
    return tuple(f"{head}{option}{tail}" for option in options.split("|"))


def count_orphans(con: duckdb.DuckDBPyConnection) -> list[Orphans]:
    """Per relation (child column -> parent tables): child rows and keys with no parent row."""
    found = []
    for child in tables().values():
        for column, spec in child.parent.items():
            parents = parent_tables(spec)
            key = column.lower()
            missing = " AND ".join(
                f"NOT EXISTS (SELECT 1 FROM {RAW_SCHEMA}.{p} AS p WHERE p.{key} = c.{key})"
                for p in parents
            )
            rows, keys = con.execute(
                f"SELECT count(*), count(DISTINCT c.{key}) FROM {RAW_SCHEMA}.{child.name} AS c "
                f"WHERE {missing}"
            ).fetchone()
            found.append(Orphans(child.name, column, spec, rows, keys))
    return found


def find_rare_levels(con: duckdb.DuckDBPyConnection) -> list[RareLevel]:
    """Levels of categorical columns that are unknown to the schema or very rare."""
    found: list[RareLevel] = []
    for table in tables().values():
        categorical = [c for c in table.columns if c.dtype == "str"]
        if not categorical:
            continue
        counts = level_counts(con, table.name, categorical)
        for column in categorical:
            levels = counts.get(column.name, {})
            total = sum(levels.values())
            for level, n in sorted(levels.items(), key=lambda kv: (kv[1], kv[0])):
                known = column.levels is None or level in column.levels
                if not known or n < RARE_SHARE * total:
                    found.append(RareLevel(table.name, column.name, level, n, known))
    return found


def level_counts(con: duckdb.DuckDBPyConnection, table: str,
                 columns: list[Column]) -> dict[str, dict[str, int]]:
    """Counts per level of several columns in one statement (one scan per column)."""
    parts = [
        f"SELECT {quote_literal(c.name)} AS col, {c.sql_name} AS level, count(*) AS n "
        f"FROM {RAW_SCHEMA}.{table} WHERE {c.sql_name} IS NOT NULL GROUP BY ALL"
        for c in columns
    ]
    counts: dict[str, dict[str, int]] = {}
    for col, level, n in con.execute(" UNION ALL ".join(parts)).fetchall():
        counts.setdefault(col, {})[level] = n
    return counts


def sentinel_columns(table: Table) -> list[Column]:
    """Numeric columns whose real sample reaches the DAYS sentinel."""
    return [c for c in table.columns if c.is_numeric and c.sample_max == DAYS_SENTINEL]


def count_sentinels(con: duckdb.DuckDBPyConnection) -> list[Sentinel]:
    found = []
    for table in tables().values():
        columns = sentinel_columns(table)
        if not columns:
            continue
        counts = con.execute(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c.sql_name} = {DAYS_SENTINEL})"
                                  for c in columns)
            + f" FROM {RAW_SCHEMA}.{table.name}"
        ).fetchone()
        found += [Sentinel(table.name, c.name, DAYS_SENTINEL, n)
                  for c, n in zip(columns, counts, strict=True)]
    return found


# ---------------------------------------------------------------------------------------------
# SQL quoting


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
