"""The published features an edit cannot change, held in memory for one snapshot.

Why: a what-if reads ~330 of the client's published features from marts.client_features. Even
fetched by rowid, that read costs DuckDB ≈ 15 ms per query plus ≈ 5 ms per client at full
scale (every column's segment is decompressed for one row) — more than the feature query
itself. Held in memory, the same values cost a NumPy gather.

Exact, not approximately equal: every column is read as the point lookup reads it (float64,
`feature_sql.as_double`) and kept as float32 only when float32 holds every one of its values
exactly (counts, flags, amounts in whole units…); the others stay float64. So the rows given
back are bit for bit the mart's float64 values: the model's float32 input, the scores and the
drivers' displayed values are those of the batch (tests/whatif/test_scoring.py). Memory at
full scale: see README, *What-if and recourse*.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from models_ml.feature_sql import as_double, quoted
from models_ml.features import arrow_to_matrix

READ_ROWS = 32_768           # rows per Arrow batch while loading: bounds the float64 transient


@dataclass(frozen=True)
class PublishedColumns:
    """`features` of every mart row, one array per feature indexed by the mart's rowid."""

    features: list[str]
    columns: list[np.ndarray]    # float32 where that is exact, else float64

    def take(self, rowids: np.ndarray) -> np.ndarray:
        """The rows at `rowids` (MartRows.of), float64, one column per feature."""
        X = np.empty((len(rowids), len(self.features)), dtype=np.float64)
        for j, column in enumerate(self.columns):
            X[:, j] = column[rowids]
        return X

    @property
    def nbytes(self) -> int:
        return sum(column.nbytes for column in self.columns)


def _exact_in_float32(values: np.ndarray) -> np.ndarray:
    """Per column of a float64 block: does float32 hold every value exactly (NaN included)?"""
    narrow = values.astype(np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        same = narrow.astype(np.float64) == values
    return (same | np.isnan(values)).all(axis=0)


def load_published_columns(cur: duckdb.DuckDBPyConnection, catalog: str, features: list[str],
                           rows: int, types: dict[str, str]) -> PublishedColumns:
    """Read `features` of marts.client_features (`rows` = its largest rowid + 1) in batches.
    A column starts as float32 and becomes float64 at the first value float32 cannot hold."""
    columns = [np.full(rows, np.nan, dtype=np.float32) for _ in features]
    reader = cur.sql(
        "select rowid, " + ", ".join(as_double(f, types) for f in features)
        + f" from {quoted(catalog)}.marts.client_features").to_arrow_reader(READ_ROWS)
    for batch in reader:
        table = pa.Table.from_batches([batch])
        at = np.asarray(table.column("rowid").to_numpy(), dtype=np.int64)
        block = arrow_to_matrix(table, features, np.float64)
        exact = _exact_in_float32(block)
        for j in range(len(features)):
            if columns[j].dtype == np.float32 and not exact[j]:
                columns[j] = columns[j].astype(np.float64)   # earlier values were exact
            columns[j][at] = block[:, j]
    return PublishedColumns(features=list(features), columns=columns)
