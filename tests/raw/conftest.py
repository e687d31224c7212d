"""Fixtures for the raw-file tests: one small generated portfolio per session, copied per test.

Tests corrupt their own copy through `CsvFiles`, which edits the CSVs the way a broken export
would (a field, a line, raw bytes) while keeping the rest of the file byte-identical in format.
"""
from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from warehouse.config import PadPaths
from warehouse.raw.schema import ZIP_NAME, kaggle_files

CLIENTS = 300
SEED = 1


@pytest.fixture(scope="session")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid synthetic portfolio in the Kaggle format (8 CSVs + truth.csv), made once."""
    from warehouse.raw.generate import generate_portfolio

    out = tmp_path_factory.mktemp("portfolio")
    generate_portfolio(clients=CLIENTS, out_dir=out, seed=SEED)
    return out


@pytest.fixture
def raw_dir(portfolio: Path, tmp_path: Path) -> Path:
    """This test's own copy of the portfolio, free to corrupt."""
    target = tmp_path / "raw"
    shutil.copytree(portfolio, target)
    return target


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def pad_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PadPaths:
    """A private PAD_HOME, also exported for the CLI (which reads the environment)."""
    home = tmp_path / "home"
    monkeypatch.setenv("PAD_HOME", str(home))
    return PadPaths(home)


@pytest.fixture
def files(raw_dir: Path) -> CsvFiles:
    return CsvFiles(raw_dir)


def zip_files(folder: Path, target: Path, names: list[str] | None = None) -> Path:
    """Zip the given files of `folder` (default: the eight Kaggle CSVs) like Kaggle does."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in names if names is not None else kaggle_files():
            zf.write(folder / name, arcname=name)
    return target


@pytest.fixture
def make_zip() -> Callable[..., Path]:
    return zip_files


@pytest.fixture
def zip_path(raw_dir: Path, tmp_path: Path) -> Path:
    """The Kaggle zip of this test's portfolio copy."""
    return zip_files(raw_dir, tmp_path / ZIP_NAME)


class CsvFiles:
    """Read and corrupt the CSVs of one portfolio copy. Lines are physical, header = line 1."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str) -> tuple[list[str], list[list[str]]]:
        """(header, data rows) as strings."""
        with self.path(name).open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))
        return records[0], records[1:]

    def newline(self, name: str) -> str:
        head = self.path(name).read_bytes()[:1_000_000]
        return "\r\n" if b"\r\n" in head else "\n"

    def write(self, name: str, header: list[str], rows: list[list[str]],
              newline: str | None = None) -> None:
        """Rewrite a file with the generator's quoting and line ending."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=newline or self.newline(name))
        writer.writerow(header)
        writer.writerows(rows)
        self.path(name).write_text(buffer.getvalue(), encoding="utf-8", newline="")

    def value(self, name: str, line: int, column: str) -> str:
        header, rows = self.read(name)
        return rows[line - 2][header.index(column)]

    def set_value(self, name: str, line: int, column: str, value: str) -> None:
        header, rows = self.read(name)
        rows[line - 2][header.index(column)] = value
        self.write(name, header, rows)

    def rows(self, name: str) -> int:
        return len(self.read(name)[1])

    def lines(self, name: str) -> list[bytes]:
        """Physical lines with their endings."""
        return self.path(name).read_bytes().splitlines(keepends=True)

    def write_lines(self, name: str, lines: list[bytes]) -> None:
        self.path(name).write_bytes(b"".join(lines))
