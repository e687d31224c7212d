"""Reading marts.client_features and marts.feature_catalog from a DuckDB file.

This module owns the model's view of the feature mart: which columns are features, which are
left out (protected attributes), how rows become a float32 matrix (DuckDB → Arrow → NumPy in
bulk or in bounded chunks, never row by row) and the hashes that identify a data set (the
training fingerprint) or a client's feature row (incremental scoring). Hashes are computed inside
DuckDB so no feature row crosses into Python just to be hashed.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from models_ml.families import assign_family, is_excluded, label_feature
from warehouse.errors import BadInput

FEATURES_TABLE = "marts.client_features"
CATALOG_TABLE = "marts.feature_catalog"
KEY_COLUMNS = ("sk_id_curr", "population", "target")


@dataclass(frozen=True)
class FeatureMatrix:
    """Rows of the mart as a matrix."""

    ids: np.ndarray          # int64 sk_id_curr
    X: np.ndarray            # rows × features, NaN = missing (float32 for training)
    y: np.ndarray | None     # int8 target (history rows only)
    features: list[str]


def connect(db_path: Path, read_only: bool = False, threads: int | None = None
            ) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection without progress bars (they would litter the flow's logs)."""
    config: dict[str, str | int | bool] = {}
    if threads is not None:
        config["threads"] = threads
    try:
        con = duckdb.connect(str(db_path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise BadInput(f"{db_path}: cannot open the DuckDB file ({exc})") from exc
    con.execute("set enable_progress_bar = false")
    return con


def list_feature_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every feature column of marts.client_features, in table order."""
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'client_features' "
        "order by ordinal_position").fetchall()
    if not rows:
        raise BadInput(f"{FEATURES_TABLE} does not exist: run dbt before the model")
    names = [r[0] for r in rows]
    missing = [c for c in KEY_COLUMNS if c not in names]
    if missing:
        raise BadInput(f"{FEATURES_TABLE}: missing column {missing[0]}")
    return [n for n in names if n not in KEY_COLUMNS]


def read_catalog(con: duckdb.DuckDBPyConnection, features: list[str]) -> pd.DataFrame:
    """One row per feature: description, source, aggregation, family and human label.

    Features absent from marts.feature_catalog (or a mart without a catalog) still get a family
    and a label from their name, so explanations never lack them.
    """
    has_catalog = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'feature_catalog'").fetchall()[0][0] > 0
    catalog = pd.DataFrame({"feature_name": features})
    if has_catalog:
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'feature_catalog'").fetchall()}
        wanted = [c for c in ("description", "source_table", "source_column", "aggregation",
                              "split_or_window", "feature_label") if c in columns]
        stored = con.execute(f"select feature_name, {', '.join(wanted)} from {CATALOG_TABLE}").df()
        catalog = catalog.merge(stored, on="feature_name", how="left")
    for column in ("description", "source_table", "source_column", "aggregation",
                   "split_or_window", "feature_label"):
        if column not in catalog:
            catalog[column] = None
    catalog = catalog.astype(object).where(catalog.notna(), None)
    catalog["family"] = [assign_family(n, s) for n, s in
                         zip(catalog["feature_name"], catalog["source_column"], strict=True)]
    catalog["feature_label"] = [
        given or label_feature(n, a, w) for given, n, a, w in zip(
            catalog["feature_label"], catalog["feature_name"], catalog["aggregation"],
            catalog["split_or_window"], strict=True)]
    catalog["description"] = [d or label for d, label in
                              zip(catalog["description"], catalog["feature_label"], strict=True)]
    return catalog


def select_model_features(catalog: pd.DataFrame, exclude: tuple[str, ...]) -> list[str]:
    """The features the model may use: every catalog row not matching an exclusion pattern."""
    return [n for n, s in zip(catalog["feature_name"], catalog["source_column"], strict=True)
            if not is_excluded(n, s, exclude)]


def _select_list(keys: list[str], features: list[str], sql_type: str = "float") -> str:
    """Key columns, then each feature cast to `sql_type` (an empty feature list is valid)."""
    # float32 is what LightGBM bins on anyway; casting in DuckDB halves the transfer
    return ", ".join([*keys, *(f'cast("{f}" as {sql_type}) as "{f}"' for f in features)])


def read_history(con: duckdb.DuckDBPyConnection, features: list[str]) -> FeatureMatrix:
    """History clients (known target) as a float32 matrix, ordered by sk_id_curr.

    The rows are put in order in NumPy, one column at a time, as they are copied into the
    matrix: an ORDER BY in DuckDB sorts the ~1 GB of feature rows themselves (≈ 3 s of CPU
    more at full scale)."""
    table = con.sql(
        f"select {_select_list(['sk_id_curr', 'cast(target as tinyint) as target'], features)} "
        f"from {FEATURES_TABLE} where population = 'history' and target is not null"
    ).to_arrow_table()
    if table.num_rows == 0:
        raise BadInput(f"{FEATURES_TABLE}: no history client with a known target to train on")
    ids = table.column("sk_id_curr").to_numpy()
    order = np.argsort(ids, kind="stable")
    X = arrow_to_matrix(table, features, rows=order)
    y = table.column("target").to_numpy().astype(np.int8)[order]
    return FeatureMatrix(ids=ids[order], X=X, y=y, features=features)


def iter_client_chunks(con: duckdb.DuckDBPyConnection, features: list[str], chunk_rows: int,
                       only_table: str | None = None) -> Iterator[FeatureMatrix]:
    """All clients (or those whose sk_id_curr is in `only_table`) in chunks of `chunk_rows`.

    Values come as float64 — exact, for display in the explanations; the model is fed the
    same float32 rounding it was trained on (`model_input`). Chunks come in no particular order:
    sorting ~1 GB of feature rows would cost more than it is worth, and every output row
    carries its sk_id_curr.
    """
    where = f"where sk_id_curr in (select sk_id_curr from {only_table})" if only_table else ""
    reader = con.sql(
        f"select {_select_list(['sk_id_curr'], features, 'double')} from {FEATURES_TABLE} {where}"
    ).to_arrow_reader(chunk_rows)
    pending: list[pa.RecordBatch] = []
    buffered = 0
    # DuckDB hands out vectors of 2048 rows; gather them into chunks of the requested size
    for batch in reader:
        pending.append(batch)
        buffered += batch.num_rows
        if buffered >= chunk_rows:
            yield _chunk_matrix(pa.Table.from_batches(pending), features)
            pending, buffered = [], 0
    if buffered:
        yield _chunk_matrix(pa.Table.from_batches(pending), features)


def prefetch(chunks: Iterator[FeatureMatrix]) -> Iterator[FeatureMatrix]:
    """The same chunks, each next one read in a background thread while the caller works on
    the current one: DuckDB and the Arrow → NumPy copy release the GIL, so reading overlaps
    with TreeSHAP instead of adding to it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(next, chunks, None)
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            yield chunk


def _chunk_matrix(table: pa.Table, features: list[str]) -> FeatureMatrix:
    return FeatureMatrix(ids=table.column("sk_id_curr").to_numpy(),
                         X=arrow_to_matrix(table, features, np.float64), y=None,
                         features=features)


def model_input(X: np.ndarray) -> np.ndarray:
    """What the model sees: float32, as in training (DuckDB's cast rounds the same way)."""
    return X if X.dtype == np.float32 else X.astype(np.float32)


def arrow_to_matrix(table: pa.Table, features: list[str], dtype: type = np.float32,
                    rows: np.ndarray | None = None) -> np.ndarray:
    """The feature columns of an Arrow table as a C-ordered matrix (null → NaN), its rows in
    the order of `rows` (row positions) when given."""
    X = np.empty((table.num_rows, len(features)), dtype=dtype)
    for j, name in enumerate(features):
        # pyarrow turns float nulls into NaN, LightGBM's missing value
        column = table.column(name).to_numpy()
        X[:, j] = column if rows is None else column[rows]
    return X


def count_history(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(history clients with a known target, defaults among them), counted in DuckDB before
    any feature row is read."""
    clients, defaults = con.execute(
        f"select count(*), coalesce(sum(cast(target as integer)), 0) from {FEATURES_TABLE} "
        "where population = 'history' and target is not null").fetchall()[0]
    return int(clients), int(defaults)


def _row_hash(features: list[str], keys: tuple[str, ...] = ()) -> str:
    """DuckDB's hash() over key columns and quoted feature columns. hash() needs at least one
    argument: a model or a mart without features must still hash (to a constant), not fail
    to bind."""
    columns = [*keys, *(f'"{f}"' for f in features)]
    return f"hash({', '.join(columns)})" if columns else "hash(null)"


def fingerprint_history(con: duckdb.DuckDBPyConnection, features: list[str]) -> str:
    """A short id of the training data: history rows, their targets and all feature values.

    Order-independent (XOR of per-row hashes) and computed in DuckDB; equal fingerprints mean
    the champion and a challenger were evaluated on the same data (CONTRACTS §5).
    """
    row_hash = _row_hash(features, keys=("sk_id_curr", "target"))
    rows, combined = con.execute(
        f"select count(*), coalesce(bit_xor({row_hash}), 0) "
        f"from {FEATURES_TABLE} where population = 'history' and target is not null").fetchall()[0]
    digest = hashlib.sha256(f"{rows}|{combined}|{','.join(features)}".encode()).hexdigest()
    return digest[:16]


def create_row_hashes(con: duckdb.DuckDBPyConnection, features: list[str], table: str) -> None:
    """(sk_id_curr, feature_hash) of every client over the model's features, as `table`."""
    con.execute(f"create or replace temp table {table} as select sk_id_curr, "
                f"{_row_hash(features)} as feature_hash "
                f"from {FEATURES_TABLE}")
