"""The Home Credit file schema the project encodes (from the public facts about the real files).

`homecredit_schema.json` beside this module holds, per table and in file order, every column with
its semantic kind, how the real files write it (`dtype`: int | float | str), missing rates and the
categorical levels seen in a real sample. Generator, validator and loader all read it from here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("homecredit_schema.json")
ZIP_NAME = "home-credit-default-risk.zip"
TRUTH_FILE = "truth.csv"
DUCKDB_TYPES = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # semantic kind: int | float | float(int-valued) | cat
    dtype: str  # how the files write it: int | float | str
    missing_pct: float | None
    levels: dict[str, int] | None
    sample_min: float | None
    sample_max: float | None

    @property
    def sql_name(self) -> str:
        return self.name.lower()

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.dtype]

    @property
    def is_numeric(self) -> bool:
        return self.dtype != "str"


@dataclass(frozen=True)
class Table:
    key: str  # schema key, e.g. "POS_CASH_balance"
    file: str  # e.g. "POS_CASH_balance.csv"
    name: str  # warehouse table name, e.g. "pos_cash_balance"
    full_rows: int
    primary_key: tuple[str, ...]
    parent: dict[str, str]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _column(raw: dict) -> Column:
    return Column(
        name=raw["name"],
        kind=raw["kind"],
        dtype=raw["dtype"],
        missing_pct=raw.get("missing_pct_full"),
        levels=raw.get("sample_levels"),
        sample_min=raw.get("sample_min"),
        sample_max=raw.get("sample_max"),
    )


@cache
def tables() -> dict[str, Table]:
    """All eight tables keyed by warehouse name, in the order the Kaggle files are listed."""
    raw = json.loads(SCHEMA_FILE.read_text())["tables"]
    result: dict[str, Table] = {}
    for key, t in raw.items():
        result[t["table"]] = Table(
            key=key,
            file=t["file"],
            name=t["table"],
            full_rows=t["full_rows"],
            primary_key=tuple(t["primary_key"] or ()),
            parent=dict(t["parent"] or {}),
            columns=tuple(_column(c) for c in t["columns"]),
        )
    return result


def table(name: str) -> Table:
    return tables()[name]


def kaggle_files() -> list[str]:
    return [t.file for t in tables().values()]
