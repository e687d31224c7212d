"""The accepted quirks of the raw files, counted in SQL after the load for the report: orphans
(child rows without a parent row), rare or unknown levels, the DAYS sentinel."""
from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from warehouse.raw.schema import Column, Table, tables
from warehouse.raw.sql import RAW_SCHEMA, quote_literal

DAYS_SENTINEL = 365243  # "no date" in DAYS_* columns of the real files (FACTS quirks 1-2)
RARE_SHARE = 0.0005  # a known level under 0.05 % of a column's values is reported as rare


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
            # One anti-join against every parent's keys at once (a hash probe per child row).
            parent_keys = " UNION ALL ".join(f"SELECT {key} FROM {RAW_SCHEMA}.{p}"
                                             for p in parents)
            rows, keys = con.execute(
                f"SELECT count(*), count(DISTINCT c.{key}) FROM {RAW_SCHEMA}.{child.name} AS c "
                f"ANTI JOIN ({parent_keys}) AS p USING ({key})"
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

