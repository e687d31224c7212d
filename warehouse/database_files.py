"""A DuckDB file on disk is up to three things: the file, its write-ahead log (`<file>.wal`) and
its spill folder (`<file>.tmp`). A killed run leaves them behind, and DuckDB replays a stale WAL
into a new file of the same name (or refuses to open it): removing or replacing a file removes
all three."""
from __future__ import annotations

import shutil
from pathlib import Path


def wal_file(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside the file `path` until a checkpoint."""
    return path.with_name(path.name + ".wal")


def spill_folder(path: Path) -> Path:
    """Where the file `path` spills what does not fit in memory (DuckDB's default for a file
    database; the loader sets it explicitly)."""
    return path.with_name(path.name + ".tmp")


def remove_database(path: Path) -> None:
    """Remove a DuckDB file with its write-ahead log and spill folder, if any."""
    for extra in (path, wal_file(path)):
        extra.unlink(missing_ok=True)
    shutil.rmtree(spill_folder(path), ignore_errors=True)


def copy_database(source: Path, target: Path) -> None:
    """`target` becomes a copy of the DuckDB file `source`, without what a killed run may have
    left beside `target`."""
    remove_database(target)
    shutil.copyfile(source, target)
