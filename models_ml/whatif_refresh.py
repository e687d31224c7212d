"""The refresh step of what-if and recourse: publish the what-if model and precompute the
options of every refused pending client.

Called by the refresh flow after scoring (ml.client_scores exists) and before dbt builds
`serving`; writes into the build file only:
  ml.whatif_model     the champion, its explanation settings and the pruned feature query
                      (models_ml.whatif), read by the API and the dashboard;
  ml.client_recourse  refused pending client × option (models_ml.recourse): sk_id_curr,
                      model_version, option_rank, lever, edits (json), score,
                      probability_default, text_code, text.
History clients get their options on demand (GET /clients/{id}/recourse).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from models_ml.config import MlConfig, load_config
from models_ml.features import connect
from models_ml.recourse import Case, find_options, make_scorer, options_frame_rows
from models_ml.whatif import (
    FIELDS,
    from_raw,
    whatif_model_from_row,
    whatif_model_row,
    write_whatif_model,
)

RECOURSE_TABLE = "ml.client_recourse"
# bisection: the batch pays per candidate row, so one probe per bracket and round is cheapest
BATCH_PROBES = 1


@dataclass(frozen=True)
class RecourseResult:
    model_version: str
    refused_pending: int
    with_options: int
    options: int
    seconds: float


def refused_pending_cases(con: duckdb.DuckDBPyConnection) -> list[Case]:
    """Every refused pending client with its application as published (human units)."""
    columns = ", ".join(f"a.{f.raw_column}" for f in FIELDS.values())
    rows = con.execute(
        f"select a.sk_id_curr, {columns} from raw.application_test a "
        "join ml.client_scores s on s.sk_id_curr = a.sk_id_curr "
        "where s.decision = 'refuse' order by a.sk_id_curr").fetchall()
    cases = []
    for sk_id_curr, *values in rows:
        app = {name: from_raw(name, v) for name, v in zip(FIELDS, values, strict=True)}
        cases.append(Case(int(sk_id_curr), {}, app, app))
    return cases


def write_recourse(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute(f"create or replace table {RECOURSE_TABLE} (sk_id_curr bigint not null, "
                "model_version varchar not null, option_rank integer not null, "
                "lever varchar not null, edits json not null, score integer not null, "
                "probability_default double not null, text_code varchar not null, "
                "text varchar not null)")
    if rows:
        names = ("sk_id_curr", "model_version", "option_rank", "lever", "edits", "score",
                 "probability_default", "text_code", "text")
        table = pa.table(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)))
        con.register("_recourse_rows", table)
        con.execute(f"insert into {RECOURSE_TABLE} select * from _recourse_rows")
        con.unregister("_recourse_rows")


def publish_whatif(db_path: Path, models_dir: Path, config: MlConfig | None = None,
                   model_version: str | None = None) -> RecourseResult:
    """ml.whatif_model and ml.client_recourse in the build file `db_path`, for the model that
    scored it (`model_version`; default the champion)."""
    config = config or load_config()
    started = time.perf_counter()
    row = whatif_model_row(Path(db_path), Path(models_dir), config, model_version)
    engine = whatif_model_from_row(row)
    threads = config.train.threads
    con = connect(Path(db_path), threads=threads)
    try:
        write_whatif_model(con, row)
        cases = refused_pending_cases(con)
        catalog = con.execute("select current_database()").fetchall()[0][0]
        options = find_options(cases, engine, make_scorer(engine, con, catalog, threads),
                               probes=BATCH_PROBES, threads=threads)
        rows = options_frame_rows(options, engine.model.version)
        write_recourse(con, rows)
    finally:
        con.close()
    return RecourseResult(engine.model.version, len(cases), len(options), len(rows),
                          time.perf_counter() - started)
