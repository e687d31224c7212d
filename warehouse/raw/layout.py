"""The header of a raw file, read in Python before any data: empty file, encoding, missing,
duplicated and unknown columns; columns are matched to the schema by name, case-insensitively,
in any order (`FileLayout`)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from warehouse.errors import BadInput
from warehouse.raw.schema import Table

HEADER_MAX_BYTES = 1 << 20
MISSING_SHOWN = 5
UTF8_BOM = b"\xef\xbb\xbf"



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

