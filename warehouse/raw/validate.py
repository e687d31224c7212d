"""Validation of the raw Kaggle files: the entry points and the report.

Every check on the eight CSVs, in order:
- before any data is read (Python, first line only, `layout`): empty file, header encoding,
  missing, duplicated and unknown columns;
- during one typed, parallel DuckDB read per file into schema `raw` (`typed_read`):
  malformed rows, wrong field counts, invalid UTF-8, non-numeric values,
  non-integral or non-finite numbers;
- after the read (SQL, `keys`): header-only files, missing identifiers, duplicate primary keys
  (the application key across train and test too);
- the report (this module): rows per table, and the accepted quirks (`quirks`): orphans per
  relation, rare or unknown levels, sentinels; warnings.

Every failure is one `BadInput` line naming file, line (physical, header = line 1), column and value
where they apply. `load.py` publishes the same read into a warehouse file; `validate_raw` reads
into a scratch file and throws it away.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.config import duckdb_memory_limit, duckdb_threads
from warehouse.database_files import remove_database, spill_folder
from warehouse.errors import RunFailure
from warehouse.profiling import PhaseTimes
from warehouse.raw.keys import check_application_keys, check_identifiers
from warehouse.raw.layout import read_header
from warehouse.raw.quirks import (
    DAYS_SENTINEL,
    Orphans,
    RareLevel,
    Sentinel,
    count_orphans,
    count_sentinels,
    find_rare_levels,
)
from warehouse.raw.schema import tables
from warehouse.raw.sources import RawFiles, open_raw
from warehouse.raw.sql import RAW_SCHEMA, quote_literal
from warehouse.raw.typed_read import read_table

__all__ = [
    "DATABASE_ALIAS",
    "DAYS_SENTINEL",
    "RAW_SCHEMA",
    "ValidationReport",
    "open_database",
    "read_checked",
    "validate_raw",
]

DATABASE_ALIAS = "pad_raw_load"
REPORT_MAX_LEVELS = 30


# ---------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class TableStats:
    table: str
    file: str
    rows: int
    columns: int
    bytes: int



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
        "temp_directory": str(spill_folder(path)),
    }
    options = f" (STORAGE_VERSION {quote_literal(storage_version)})" if storage_version else ""
    try:
        con = duckdb.connect(config=config)
        con.execute(f"ATTACH {quote_literal(str(path))} AS {DATABASE_ALIAS}{options}")
        con.execute(f"USE {DATABASE_ALIAS}")
    except duckdb.Error as exc:
        raise RunFailure(f"cannot open {path}: {exc}") from None
    return con


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
