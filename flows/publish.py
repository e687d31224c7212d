"""Publishing a build file as the warehouse, and the guards around it.

One writer at a time (an advisory lock under PAD_HOME); the refresh writes only its private
build file; publishing is checkpoint → close → fsync → atomic rename onto warehouse.duckdb.
Readers that hold the old file open keep reading the old inode and are never blocked; new
readers see the new snapshot whole.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.config import PadPaths
from warehouse.errors import BadInput, RunFailure
from warehouse.raw.schema import kaggle_files

LOCK_NAME = "refresh.lock"
BUILD_PREFIX = "refresh-"


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


def new_build_path(paths: PadPaths, run_id: str) -> Path:
    paths.build.mkdir(parents=True, exist_ok=True)
    return paths.build / f"{BUILD_PREFIX}{run_id}.duckdb"


def remove_build(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def clean_stale_builds(paths: PadPaths) -> list[Path]:
    """Build files left by killed runs (we hold the lock, so no other run owns them)."""
    if not paths.build.exists():
        return []
    stale = sorted(paths.build.glob(f"{BUILD_PREFIX}*.duckdb*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


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


def publish(build: Path, paths: PadPaths) -> float:
    """Checkpoint the build file and rename it atomically onto the published warehouse."""
    started = time.perf_counter()
    con = duckdb.connect(str(build))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    if build.with_name(build.name + ".wal").exists():
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
    return time.perf_counter() - started
