"""Publishing a build file as the warehouse, and the guards around it.

One writer at a time (an advisory lock under PAD_HOME); the refresh writes only its private
build file; publishing is checkpoint → close → fsync → atomic rename onto warehouse.duckdb.
Readers that hold the old file open keep reading the old inode and are never blocked; new
readers see the new snapshot whole.

Champion promotion belongs to publishing (CONTRACTS §1): the build file records which run and
which model scored it (`ml.publication`), and right after the rename `models/champion.json` is
pointed at that model. A run killed between the two renames leaves a warehouse newer than the
pointer; `reconcile_champion` (called by the next refresh under the lock) repairs the pointer
from the warehouse, which wins because readers already see it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from models_ml.registry import read_champion_pointer, set_champion, utc_now
from warehouse.buckets import PARTS_SUFFIX, remove_parts
from warehouse.config import PadPaths
from warehouse.database_files import remove_database, wal_file
from warehouse.errors import BadInput, RunFailure
from warehouse.raw.schema import kaggle_files

LOCK_NAME = "refresh.lock"
BUILD_PREFIX = "refresh-"
# The dbt build file has one name per home (a refresh holds the home's lock and clears what a
# killed run left first). dbt hashes the profile's database path into its saved parse, so a
# name per run made every refresh parse the whole project again (~4 s at full scale); with one
# name, every refresh after a home's first reuses the saved parse.
BUILD_FILE = f"{BUILD_PREFIX}build.duckdb"
PUBLICATION_TABLE = "ml.publication"


@contextmanager
def refresh_lock(paths: PadPaths) -> Iterator[None]:
    """Hold PAD_HOME/refresh.lock for the whole run; a second refresh fails fast (exit 1)."""
    paths.home.mkdir(parents=True, exist_ok=True)
    with open(paths.home / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFailure(f"another refresh is running (lock {paths.home / LOCK_NAME})") \
                from None
        yield


def new_build_path(paths: PadPaths) -> Path:
    """Where a refresh loads and builds its warehouse (BUILD_FILE)."""
    paths.build.mkdir(parents=True, exist_ok=True)
    return paths.build / BUILD_FILE


def run_build_path(paths: PadPaths, run_id: str) -> Path:
    """A private file of one run that dbt never builds (the decision-log republish)."""
    paths.build.mkdir(parents=True, exist_ok=True)
    return paths.build / f"{BUILD_PREFIX}{run_id}.duckdb"


def check_fresh_build(build: Path) -> None:
    """The loaded build holds schema raw only. duckdb.connect hands out the DuckDB instance
    already open on a path in this process, if any: one left open on an earlier build of the
    same name would write into the file that build was renamed to, the published warehouse.
    Fails the run instead (call after the load, before the first connect that writes)."""
    con = duckdb.connect(str(build))
    try:
        built = con.execute("select distinct schema_name from duckdb_tables() "
                            "where schema_name <> 'raw' order by 1").fetchall()
    finally:
        con.close()
    if built:
        raise RunFailure(f"{build}: this process still has an earlier build of that name open "
                         f"(it holds schema {built[0][0]}); run the refresh in a new process")


def remove_build(path: Path) -> None:
    """The build file (its WAL and spill folder too) and the bucket files of a partitioned
    refresh."""
    remove_database(path)
    remove_parts(path)


def clean_stale_builds(paths: PadPaths) -> list[Path]:
    """Build files left by killed runs (we hold the lock, so no other run owns them): the
    file, its WAL, the spill folder of a run killed while DuckDB spilled, bucket folders."""
    if not paths.build.exists():
        return []
    stale = sorted(paths.build.glob(f"{BUILD_PREFIX}*.duckdb*"))
    for database in {path.with_name(path.name.partition(".duckdb")[0] + ".duckdb")
                     for path in stale}:
        remove_database(database)
    parts = sorted(paths.build.glob(f"{BUILD_PREFIX}*{PARTS_SUFFIX}"))
    for folder in parts:
        remove_parts(folder.with_suffix(".duckdb"))
    return stale + parts


def fingerprint_inputs(raw: Path) -> str:
    """Content hash of the input (the zip, or the eight Kaggle CSVs of a folder)."""
    if not raw.exists():
        raise BadInput(f"{raw}: no such file or folder")
    files = [raw] if raw.is_file() else [raw / name for name in kaggle_files()
                                         if (raw / name).exists()]
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha1").digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Publication:
    """Which run published, with which model (the champion from then on), and why."""

    run_id: str
    model_version: str
    reason: str


def publish(build: Path, paths: PadPaths, publication: Publication | None = None) -> float:
    """Record the publication in the build file, checkpoint it, rename it atomically onto the
    published warehouse, then make its model the champion (a warehouse without a model, as
    in tests, is published without a publication record)."""
    started = time.perf_counter()
    published_at = utc_now()
    con = duckdb.connect(str(build))
    try:
        if publication is not None:
            con.execute(f"create or replace table {PUBLICATION_TABLE} (run_id varchar not null,"
                        " model_version varchar not null, published_at timestamptz not null)")
            con.execute(f"insert into {PUBLICATION_TABLE} values (?, ?, ?)",
                        [publication.run_id, publication.model_version, published_at])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if wal_file(build).exists():
        raise RunFailure(f"{build}: write-ahead log still present after checkpoint")
    fd = os.open(build, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(build, paths.warehouse)
    dir_fd = os.open(paths.home, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)
    if publication is not None:
        set_champion(paths.models, publication.model_version, publication.reason,
                     run_id=publication.run_id, now=published_at)
    return time.perf_counter() - started


def published_model(paths: PadPaths) -> dict | None:
    """`ml.publication` of the published warehouse (None before any publish, or for a
    warehouse published before the table existed)."""
    if not paths.warehouse.exists():
        return None
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        if not con.execute("select 1 from duckdb_tables() where schema_name = 'ml' "
                           "and table_name = 'publication'").fetchall():
            return None
        row = con.execute(f"select run_id, model_version, published_at "
                          f"from {PUBLICATION_TABLE}").fetchone()
    finally:
        con.close()
    return dict(zip(["run_id", "model_version", "published_at"], row, strict=True)) \
        if row else None


def reconcile_champion(paths: PadPaths) -> str | None:
    """Point champion.json at the published warehouse's model when a run died between the
    warehouse rename and the pointer write (the warehouse is newer than the pointer). A pointer
    written after the last publication (a promotion by hand) stands. Returns the version the
    pointer was moved to, if any."""
    publication = published_model(paths)
    if publication is None:
        return None
    pointer = read_champion_pointer(paths.models)
    if pointer is not None and (pointer["model_version"] == publication["model_version"]
                                or datetime.fromisoformat(pointer["since"])
                                >= publication["published_at"]):
        return None
    set_champion(paths.models, publication["model_version"],
                 f"published by run {publication['run_id']} (pointer repaired at the next run)",
                 run_id=publication["run_id"], now=publication["published_at"])
    return publication["model_version"]
