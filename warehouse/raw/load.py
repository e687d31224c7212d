"""Loading the raw Kaggle files into a DuckDB warehouse file (schema `raw`), atomically.

This module owns the output side: where the file goes, the storage version it is written with,
and publishing it only when everything succeeded. The typed read and all checks happen in one pass
in `validate.read_checked`; here the database is a temporary file next to the target, renamed onto
it at the end. On any error (bad input, failure, interrupt) the temporary file is removed and the
target is left as it was.
"""
from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from warehouse.config import PadPaths
from warehouse.database_files import remove_database, wal_file
from warehouse.errors import BadInput, RunFailure
from warehouse.raw.sources import RawFiles, open_raw
from warehouse.raw.validate import (
    DATABASE_ALIAS,
    RAW_SCHEMA,
    ValidationReport,
    open_database,
    read_checked,
)

# DuckDB 2.0 writes v2 storage by default, which DuckDB 1.x cannot open; analysts and older
# clients read the published warehouse, and the storage version sticks to the file for later
# writers (dbt) too. v1.3.0 (DuckDB >= 1.3 can read it): at v1.2.0 the same load ran 1.5-2x
# slower in wall time at full scale (its table writes kept about one core busy).
STORAGE_VERSION = "v1.3.0"


@dataclass(frozen=True)
class LoadResult:
    """A published load: the file, what was read (the validation report) and how long it took."""

    db_path: Path
    report: ValidationReport
    seconds: float

    @property
    def rows(self) -> dict[str, int]:
        return self.report.rows

    @property
    def total_rows(self) -> int:
        return self.report.total_rows

    def render(self) -> str:
        title = (f"loaded {self.total_rows:,} rows from {self.report.source} into schema "
                 f"{RAW_SCHEMA} of {self.db_path} in {self.seconds:.1f} s")
        return "\n".join([title, *self.report.render_sections()])


def load_raw(raw: Path, out: Path | None, paths: PadPaths) -> LoadResult:
    """`pad load`: validate and load `raw` into `out` (default: a new file under build/)."""
    target = Path(out) if out is not None else new_build_file(paths)
    return load_into(target, raw, work_dir=paths.build)


def new_build_file(paths: PadPaths) -> Path:
    """A fresh, unique file name under build/."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return paths.build / f"raw-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"


def load_into(db_path: Path, raw: Path, work_dir: Path) -> LoadResult:
    """Validate and load `raw` (folder or zip) into `db_path` in one pass, replacing it atomically.

    `work_dir` holds the extracted zip, if any, for the duration of the load.
    """
    started = time.perf_counter()
    db_path = Path(db_path).resolve()
    check_target(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    temp = db_path.with_name(f".{db_path.name}.loading-{uuid.uuid4().hex[:12]}")
    try:
        with open_raw(Path(raw), Path(work_dir)) as files:
            report = write_database(temp, files)
        os.replace(temp, db_path)
    except BaseException:
        # Bad input, failure or Ctrl-C alike: nothing half-written may remain.
        remove_database(temp)
        raise
    return LoadResult(db_path=db_path, report=report, seconds=time.perf_counter() - started)


def check_target(db_path: Path) -> None:
    """Refuse targets that cannot be replaced safely."""
    if db_path.is_dir():
        raise BadInput(f"{db_path}: is a folder, expected a DuckDB file path")
    if wal_file(db_path).exists():
        # A leftover WAL belongs to the old file; DuckDB would replay it onto the new one.
        raise RunFailure(f"{db_path}: has a write-ahead log (in use, or not closed cleanly)")


def write_database(path: Path, files: RawFiles) -> ValidationReport:
    """Read and check into a new DuckDB file at `path`, then checkpoint and close it."""
    con = open_database(path, storage_version=STORAGE_VERSION)
    try:
        report = read_checked(con, files)
        with report.phases.phase("checkpoint"):
            # Fold the WAL into the file so the rename publishes one self-contained file.
            con.execute(f"CHECKPOINT {DATABASE_ALIAS}")
            con.execute(f"USE memory; DETACH {DATABASE_ALIAS}")
    finally:
        con.close()
    return report
