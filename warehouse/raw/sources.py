"""Where the raw Kaggle files come from: a folder of CSVs or the Kaggle zip.

This module owns turning the user's `--raw DIR|ZIP` into one CSV path per warehouse table on local
disk (a zip is extracted into a private folder under the work dir, removed afterwards), and the
input errors that belong to that step: missing path, missing Kaggle files, corrupt zip.
A folder holding only the Kaggle zip is read through the zip.
Files that are not one of the eight Kaggle tables (sample_submission.csv, the data dictionary,
truth.csv, ...) are listed as ignored and never read.
"""
from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from warehouse.config import duckdb_threads
from warehouse.errors import BadInput, RunFailure
from warehouse.raw.schema import ZIP_NAME, kaggle_files, tables

COPY_BUFFER_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class RawFiles:
    """The eight Kaggle CSVs of one input, ready to read."""

    origin: Path  # what the user passed (folder or zip)
    paths: dict[str, Path]  # warehouse table name -> CSV on local disk
    names: dict[str, str]  # warehouse table name -> file name as the input spells it
    ignored: tuple[str, ...]  # other files in the input, never read


@contextmanager
def open_raw(raw: Path, work_dir: Path) -> Iterator[RawFiles]:
    """Resolve a folder or zip into local CSV paths; a zip is extracted for the duration only."""
    raw = Path(raw)
    if raw.is_dir() and not holds_only_the_zip(raw):
        yield resolve_dir(raw)
        return
    if raw.is_dir():
        # A folder where the Kaggle download was saved but not unzipped.
        raw = raw / ZIP_NAME
    if not raw.exists():
        raise BadInput(f"{raw}: no such file or folder")
    with extract_zip(raw, work_dir) as files:
        yield files


def holds_only_the_zip(folder: Path) -> bool:
    """True when the folder has the Kaggle zip but not all eight CSVs beside it."""
    if not (folder / ZIP_NAME).is_file():
        return False
    present = {p.name.lower() for p in folder.iterdir() if p.is_file()}
    return not all(name.lower() in present for name in kaggle_files())


def resolve_dir(folder: Path) -> RawFiles:
    """Map the Kaggle file names onto the files of a folder (top level only)."""
    present = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    chosen, ignored = match_kaggle_names(present, origin=folder)
    return RawFiles(
        origin=folder,
        paths={table: folder / name for table, name in chosen.items()},
        names=chosen,
        ignored=tuple(ignored),
    )


def match_kaggle_names(present: list[str], origin: Path) -> tuple[dict[str, str], list[str]]:
    """Pick each table's file among `present` (exact name first, then ignoring case).

    Returns (table name -> file name, ignored names); raises BadInput naming every missing file.
    """
    by_lower: dict[str, list[str]] = {}
    for name in present:
        by_lower.setdefault(name.lower(), []).append(name)
    chosen: dict[str, str] = {}
    missing: list[str] = []
    for table in tables().values():
        if table.file in present:
            chosen[table.name] = table.file
        elif len(by_lower.get(table.file.lower(), [])) == 1:
            # Case-insensitive file systems and re-zipped downloads change case; accept it.
            chosen[table.name] = by_lower[table.file.lower()][0]
        else:
            missing.append(table.file)
    if missing:
        raise BadInput(f"{origin}: missing Kaggle file(s): {', '.join(missing)}")
    used = set(chosen.values())
    return chosen, [name for name in present if name not in used]


@contextmanager
def extract_zip(archive: Path, work_dir: Path) -> Iterator[RawFiles]:
    """Extract the eight Kaggle CSVs of `archive` into a private folder, removed on exit."""
    members = list_zip_members(archive)
    chosen, ignored = match_kaggle_names(sorted(members), origin=archive)
    work_dir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="raw-unzip-", dir=work_dir))
    try:
        extract_members(archive, {members[name]: target / name for name in chosen.values()})
        yield RawFiles(
            origin=archive,
            paths={table: target / name for table, name in chosen.items()},
            names=chosen,
            ignored=tuple(ignored),
        )
    finally:
        shutil.rmtree(target, ignore_errors=True)


def list_zip_members(archive: Path) -> dict[str, str]:
    """File name -> member path of every regular file in the zip (folders inside are flattened)."""
    if not zipfile.is_zipfile(archive):
        raise BadInput(f"{archive}: not a folder and not a valid zip archive")
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInput(f"{archive}: corrupt zip archive ({exc})") from None
    members: dict[str, str] = {}
    for info in infos:
        path = PurePosixPath(info.filename)
        # macOS archivers add resource forks under __MACOSX/; they are never data.
        if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("."):
            continue
        members.setdefault(path.name, info.filename)
    return members


def extract_members(archive: Path, targets: dict[str, Path]) -> None:
    """Extract members in parallel (zlib releases the GIL), raising BadInput on corrupt data."""
    workers = max(1, min(duckdb_threads(), len(targets)))
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(extract_member, archive, m, t) for m, t in targets.items()]
        for future in futures:
            future.result()
    finally:
        # On the first corrupt member (or Ctrl-C) members not yet started are not extracted.
        pool.shutdown(wait=True, cancel_futures=True)


def extract_member(archive: Path, member: str, target: Path) -> None:
    """Copy one member out of the zip; its own ZipFile handle keeps threads independent."""
    name = PurePosixPath(member).name
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, COPY_BUFFER_BYTES)
    except NotImplementedError as exc:
        # e.g. Deflate64, which Windows uses for large files and Python cannot read.
        raise BadInput(
            f"{archive}: {name}: unsupported compression ({exc}); unzip it and pass the folder"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BadInput(f"{archive}: {name} is corrupt inside the zip ({exc})") from None
    except OSError as exc:  # e.g. disk full while writing: not the input's fault
        raise RunFailure(f"cannot extract {name} from {archive}: {exc}") from None
