"""Batch scoring: score and explain every client of the mart with one model version into the
`ml` client tables, copying unchanged clients (same model, same feature-row hash) from the
previously published warehouse instead of recomputing them."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from models_ml.config import MlConfig, load_config
from models_ml.explain import FeatureInfo, ScoringModel, chunk_output, compute_contributions
from models_ml.features import (
    FEATURES_TABLE,
    FeatureMatrix,
    connect,
    create_row_hashes,
    iter_client_chunks,
    list_feature_columns,
    prefetch,
    read_catalog,
)
from models_ml.registry import find_champion, get_model, load_scoring_model, utc_now
from models_ml.store import (
    CLIENT_TABLES,
    NEXT,
    SCHEMA,
    copy_reused,
    create_next_tables,
    drop_next_tables,
    insert_chunk,
    swap_next_tables,
    table_exists,
)
from warehouse.errors import RunFailure

PREVIOUS_ALIAS = "_ml_previous"


@dataclass(frozen=True)
class ScoreResult:
    model_version: str
    clients: int
    rescored: int                # clients scored and explained in this run
    reused: int                  # unchanged clients copied from the previous warehouse
    seconds: float



def score_clients(db_path: Path, models_dir: Path, previous_db: Path | None = None,
                  config: MlConfig | None = None, model_version: str | None = None
                  ) -> ScoreResult:
    """Score and explain every client of marts.client_features with `model_version` (default:
    the champion) into ml.client_scores / client_drivers / client_families / client_reasons.

    With `previous_db` (a previously published warehouse, attached read-only; it may be
    `db_path` itself), clients whose feature row hash and model version are unchanged are
    copied from its `ml` tables instead of being recomputed.
    """
    config = config or load_config()
    started = time.perf_counter()
    record = (get_model(Path(models_dir), model_version) if model_version
              else find_champion(Path(models_dir)))
    if record is None:
        raise RunFailure(f"{models_dir}: no champion model; train one first (pad refresh "
                         "--retrain)")
    model = load_scoring_model(record)
    if not model.features:
        # only an earlier version could register one (trained on a 199-row file, issue 9)
        raise RunFailure(f"model {model.version} uses no feature and cannot explain a "
                         "score; retrain (pad refresh --retrain)")
    con = connect(Path(db_path), threads=config.train.threads)
    try:
        columns = list_feature_columns(con)
        missing = [f for f in model.features if f not in set(columns)]
        if missing:
            raise RunFailure(f"{FEATURES_TABLE} lacks {len(missing)} feature(s) model "
                             f"{model.version} needs (first: {missing[0]}); retrain")
        info = _feature_info(read_catalog(con, columns), model.features)
        create_row_hashes(con, model.features, "_ml_hashes")
        create_next_tables(con)
        try:
            source = _previous_source(con, Path(db_path), previous_db)
            reused = _reuse_unchanged(con, source, model.version) if source else 0
            todo = con.sql("select sk_id_curr, feature_hash from _ml_hashes "
                           "where sk_id_curr not in (select sk_id_curr from _ml_reuse)"
                           if source else "select sk_id_curr, feature_hash from _ml_hashes"
                           ).to_arrow_table()
            _score_todo(con, model, info, todo if reused else None, config)
            swap_next_tables(con)
        except BaseException:
            drop_next_tables(con)
            raise
        finally:
            _detach_previous(con)
        clients = con.execute(f"select count(*) from {SCHEMA}.client_scores").fetchall()[0][0]
    finally:
        con.close()
    return ScoreResult(model.version, int(clients), int(todo.num_rows), int(reused),
                       time.perf_counter() - started)


def _feature_info(catalog: pd.DataFrame, features: list[str]) -> FeatureInfo:
    indexed = catalog.set_index("feature_name")
    return FeatureInfo(labels=indexed.loc[features, "feature_label"].to_numpy(dtype=object),
                       families=indexed.loc[features, "family"].to_numpy(dtype=object))


def _previous_source(con: duckdb.DuckDBPyConnection, db_path: Path, previous_db: Path | None
                     ) -> str | None:
    """The schema holding reusable rows ('ml' of this file, or of the attached previous one)."""
    if previous_db is None or not Path(previous_db).is_file():
        return None
    if Path(previous_db).resolve() == db_path.resolve():
        catalog, schema = None, SCHEMA
    else:
        path = str(Path(previous_db).resolve()).replace("'", "''")
        con.execute(f"attach '{path}' as {PREVIOUS_ALIAS} (read_only)")
        catalog, schema = PREVIOUS_ALIAS, f"{PREVIOUS_ALIAS}.{SCHEMA}"
    for table in CLIENT_TABLES:
        if not table_exists(con, catalog, SCHEMA, table):
            return None
        have = {r[0] for r in con.execute(f"describe {schema}.{table}").fetchall()}
        need = {r[0] for r in con.execute(f"describe {SCHEMA}.{table}{NEXT}").fetchall()}
        if not need <= have:
            return None
    return schema


def _detach_previous(con: duckdb.DuckDBPyConnection) -> None:
    attached = {r[0] for r in con.execute("select database_name from duckdb_databases()")
                .fetchall()}
    if PREVIOUS_ALIAS in attached:
        con.execute(f"detach {PREVIOUS_ALIAS}")


def _reuse_unchanged(con: duckdb.DuckDBPyConnection, source: str, version: str) -> int:
    """Copy unchanged clients (same model version, same feature-row hash); returns how many."""
    con.execute(
        "create or replace temp table _ml_reuse as "
        f"select h.sk_id_curr from _ml_hashes h join {source}.client_scores s "
        "on s.sk_id_curr = h.sk_id_curr and s.feature_hash = h.feature_hash "
        "where s.model_version = ?", [version])
    copy_reused(con, source, "_ml_reuse")
    return con.execute("select count(*) from _ml_reuse").fetchall()[0][0]


def _score_todo(con: duckdb.DuckDBPyConnection, model: ScoringModel, info: FeatureInfo,
                todo: pa.Table | None, config: MlConfig) -> None:
    """Score and explain the clients of `todo` (None = every client) chunk by chunk, appending
    to the __next tables.

    Reading streams through a second cursor so the main connection can insert meanwhile.
    """
    if todo is not None and todo.num_rows == 0:
        return
    scored_at = utc_now().replace(microsecond=0, tzinfo=None)  # the ml tables hold UTC
    reader = con.cursor()
    if todo is not None:
        reader.register("_ml_todo", todo)
    stream = prefetch(iter_client_chunks(reader, model.features, config.explain.chunk_rows,
                                         only_table="_ml_todo" if todo is not None else None))
    explained = contributions_ahead(model, stream, config.train.threads)
    try:
        for chunk, (shap_values, base) in explained:
            output = chunk_output(model, info, chunk.ids, chunk.X, shap_values, base, scored_at,
                                  config.explain)
            insert_chunk(con, output, "_ml_hashes")
    finally:
        explained.close()  # waits for the TreeSHAP in flight
        stream.close()  # waits for a read in flight before the cursor goes away
        reader.close()


# every TreeSHAP call of the pool uses this one LightGBM thread count (see
# models_ml.train.FOLD_THREADS: LightGBM's thread count is one process-wide variable)
SHAP_THREADS = 1


def contributions_ahead(model: ScoringModel, chunks: Iterator[FeatureMatrix], workers: int
                        ) -> Iterator[tuple[FeatureMatrix, tuple[np.ndarray, np.ndarray]]]:
    """Each chunk with its contributions (`compute_contributions`), in the chunks' order.

    `workers` chunks are explained at once, one LightGBM thread each, while the caller turns
    the previous chunk into tables and inserts them: with TreeSHAP on all cores inside one
    call, that work (a fifth of the scoring step at full scale) ran on one core while the
    other waited. TreeSHAP is computed row by row, so the values do not depend on the split.
    """
    workers = max(1, workers)
    in_flight: deque[tuple[FeatureMatrix, Future[tuple[np.ndarray, np.ndarray]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for chunk in chunks:
                in_flight.append((chunk, pool.submit(compute_contributions, model, chunk.X,
                                                     SHAP_THREADS)))
                if len(in_flight) > workers:
                    done, job = in_flight.popleft()
                    yield done, job.result()
            while in_flight:
                done, job = in_flight.popleft()
                yield done, job.result()
        finally:
            for _, job in in_flight:
                job.cancel()
