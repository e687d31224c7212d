"""Are two builds of the feature mart the same features? `marts.client_features` of two warehouse
files compared on every column and every client, in one DuckDB query.

Exact: the client set, the columns and their order, integer and text columns, and the float
features whose value is picked rather than computed (min, max, last, counts, application values,
one-hot and binary flags). Other floats (means, sums, variances, ratios...) may move in the last
digits with the order multi-threaded aggregation adds in, so they agree to a relative `rtol`
(1e-12). A sample variance moves at the scale of its values, not its own: Welford's running
mean is rounded to an ulp of the mean, so the standard deviation is only known to a few ulps of
the mean (two runs of the same full-scale build: 0 against 1.2e-32 for values one ulp apart near
1, 9.68008401871e-08 against 9.68008401872e-08, the square roots within 1 eps * |mean|). So a
variance also passes when the square roots agree within `STD_ULPS` eps * |mean|, its mean being
the feature of the same measure and split. NULLs must be the same NULLs.

Usage: `python -m warehouse.mart_diff BEFORE.duckdb AFTER.duckdb` prints one line per differing
column (exit 1) or a summary line (exit 0).
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

RTOL = 1e-12
EPS = sys.float_info.epsilon
STD_ULPS = 16  # a variance's square root may move by STD_ULPS * EPS * |its mean|
EXACT_AGGREGATIONS = {"min", "max", "last", "count", "size", "nunique", "value", "one_hot",
                      "binary"}
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}
MART = "marts.client_features"


@dataclass(frozen=True)
class ColumnDiff:
    column: str
    rule: str  # "exact" | "rtol" | "variance"
    differing: int  # clients whose values differ (NULL against a value included)
    example: tuple | None  # (sk_id_curr, before, after) of one of them

    def render(self) -> str:
        return (f"{self.column} ({self.rule}): {self.differing:,} clients differ, "
                f"e.g. {self.example}")


@dataclass(frozen=True)
class MartDiff:
    clients: int
    columns: int
    problems: list[str]  # client set or column layout
    columns_differing: list[ColumnDiff]

    @property
    def same(self) -> bool:
        return not self.problems and not self.columns_differing

    def render(self) -> str:
        if self.same:
            return (f"same features: {self.clients:,} clients x {self.columns} columns "
                    f"(exact, floats to a relative {RTOL:g}, variances also with square "
                    f"roots within {STD_ULPS} eps * |mean|)")
        return "\n".join(self.problems + [d.render() for d in self.columns_differing])


def compare_marts(before: Path, after: Path, rtol: float = RTOL) -> MartDiff:
    """Compare `marts.client_features` of two warehouse files (opened read-only)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{before}' AS b (READ_ONLY); ATTACH '{after}' AS a (READ_ONLY)")
        layout_b, layout_a = columns_of(con, "b"), columns_of(con, "a")
        problems = []
        if list(layout_b) != list(layout_a):
            problems.append(f"columns differ: only before {sorted(set(layout_b) - set(layout_a))}"
                            f", only after {sorted(set(layout_a) - set(layout_b))}"
                            + ("" if set(layout_a) != set(layout_b) else ", or their order"))
        clients, unmatched = con.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE b.sk_id_curr IS NULL OR a.sk_id_curr IS NULL)
            FROM b.{MART} AS b FULL JOIN a.{MART} AS a USING (sk_id_curr)""").fetchone()
        if unmatched:
            problems.append(f"client sets differ: {unmatched:,} clients in one build only")
        shared = [c for c in layout_a if c in layout_b and c != "sk_id_curr"]
        exact = exact_columns(con, layout_a)
        diffs = differing_columns(con, shared, exact, variance_means(con, shared), rtol)
        return MartDiff(clients, len(layout_a), problems, diffs)
    finally:
        con.close()


def columns_of(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'marts' AND table_name = 'client_features' ORDER BY column_index",
        [catalog]).fetchall()
    return dict(rows)


def exact_columns(con: duckdb.DuckDBPyConnection, layout: dict[str, str]) -> set[str]:
    picked = {name for (name,) in con.execute(
        "SELECT feature_name FROM a.marts.feature_catalog WHERE aggregation IN "
        f"({', '.join(repr(a) for a in sorted(EXACT_AGGREGATIONS))})").fetchall()}
    return {c for c, kind in layout.items() if kind not in FLOAT_TYPES or c in picked}


def variance_means(con: duckdb.DuckDBPyConnection, columns: list[str]) -> dict[str, str]:
    """Each variance feature → the mean feature of the same measure and split
    (`<prefix>_<col>_var[_<split>]` → `<prefix>_<col>_mean[_<split>]`), when the mart has it."""
    variances = [name for (name,) in con.execute(
        "SELECT feature_name FROM a.marts.feature_catalog WHERE aggregation = 'var'").fetchall()]
    means = {v: re.sub(r"_var(_|$)", r"_mean\1", v, count=1) for v in variances}
    return {v: m for v, m in means.items() if v in columns and m in columns}


def differing_columns(con: duckdb.DuckDBPyConnection, columns: list[str], exact: set[str],
                      variance_mean: dict[str, str], rtol: float) -> list[ColumnDiff]:
    """One pass over the joined marts: per column, the count of clients that differ."""
    def differs(c: str) -> str:
        q = f'"{c}"'
        if c in exact:
            return f"b.{q} IS DISTINCT FROM a.{q}"
        tolerance = f"{rtol!r} * greatest(abs(b.{q}), abs(a.{q}))"
        if c in variance_mean:
            # |a - b| = |sqrt a - sqrt b| (sqrt a + sqrt b): the square roots within the ulps
            mean = f'abs(coalesce(b."{variance_mean[c]}", 0))'
            tolerance += (f" + {STD_ULPS * EPS!r} * {mean} * "
                          f"(sqrt(abs(b.{q})) + sqrt(abs(a.{q})))")
        return f"(b.{q} IS NULL) <> (a.{q} IS NULL) OR abs(b.{q} - a.{q}) > {tolerance}"

    def rule(c: str) -> str:
        return "exact" if c in exact else "variance" if c in variance_mean else "rtol"
    if not columns:
        return []
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {differs(c)})" for c in columns)
        + f" FROM b.{MART} AS b JOIN a.{MART} AS a USING (sk_id_curr)").fetchone()
    found = []
    for column, n in zip(columns, counts, strict=True):
        if n:
            example = con.execute(
                f'SELECT sk_id_curr, b."{column}", a."{column}" FROM b.{MART} AS b '
                f"JOIN a.{MART} AS a USING (sk_id_curr) WHERE {differs(column)} "
                "ORDER BY sk_id_curr LIMIT 1").fetchone()
            found.append(ColumnDiff(column, rule(column), n, example))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=RTOL)
    args = parser.parse_args(argv)
    diff = compare_marts(args.before, args.after, args.rtol)
    print(diff.render())
    return 0 if diff.same else 1


if __name__ == "__main__":
    sys.exit(main())
