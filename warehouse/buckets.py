"""Client buckets of the partitioned refresh (CONTRACTS §9): which bucket a client belongs to,
splitting the loaded raw tables into one Parquet set per bucket, a bucket's own DuckDB file,
and gathering what the buckets built back into the refresh's build file.

The bucket of a client is a documented hash computed with explicit integer arithmetic, so SQL
(`bucket_sql`) and Python (`bucket_of`) agree and any engine can recompute it:

    h      = ((sk_id_curr mod 2^32) * 2654435761) mod 2^32     (Knuth's multiplicative hash)
    bucket = h mod P

DuckDB's `hash()` is not used: its values are not a documented contract. Every raw table
follows its client (`sk_id_curr`); bureau_balance follows the client of its bureau credit, and
its orphans (no bureau row) the bucket of their own `sk_id_bureau`. Buckets exchange Parquet
files in the build folder `refresh-build.parts/` next to the build file, never data through a
scheduler.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from warehouse.config import duckdb_memory_limit, duckdb_threads
from warehouse.database_files import remove_database

MULTIPLIER = 2654435761          # floor(2^32 / golden ratio), odd: a bijection modulo 2^32
MODULUS = 2**32
RAW_SCHEMA = "raw"
PARTS_SUFFIX = ".parts"
# every bucket's DuckDB file has this name (in its own folder): DuckDB names a file's catalog
# after its stem and dbt records that catalog in the project it parses, so one parse serves
# every bucket only if their catalogs are named alike
BUCKET_DB = "bucket.duckdb"
# the client key of each raw table (bureau_balance is routed through bureau, see split_raw)
CLIENT_KEY = {
    "application_train": "sk_id_curr", "application_test": "sk_id_curr",
    "bureau": "sk_id_curr", "previous_application": "sk_id_curr",
    "pos_cash_balance": "sk_id_curr", "installments_payments": "sk_id_curr",
    "credit_card_balance": "sk_id_curr",
}
BUREAU_BALANCE = "bureau_balance"


def bucket_of(sk_id: int, partitions: int) -> int:
    """The bucket of one key (the same value as `bucket_sql`)."""
    return ((sk_id % MODULUS) * MULTIPLIER % MODULUS) % partitions


def bucket_sql(column: str, partitions: int) -> str:
    """The bucket of `column` in DuckDB SQL (hugeint: the product never overflows; the double
    modulo keeps negative keys non-negative, as Python's % does)."""
    key = f"(({column}::hugeint % {MODULUS} + {MODULUS}) % {MODULUS})"
    return f"cast((({key} * {MULTIPLIER}) % {MODULUS}) % {partitions} as integer)"


def parts_folder(build_db: Path) -> Path:
    """The folder of a build's bucket files (deleted with the build file)."""
    return build_db.with_name(build_db.stem + PARTS_SUFFIX)


def bucket_db_path(parts: Path, bucket: int) -> Path:
    return parts / f"bucket-{bucket}" / BUCKET_DB


def _bounded(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the whole portfolio's build file with dbt's memory limit and threads
    (PAD_MEMORY_LIMIT, PAD_THREADS): splitting and gathering every client's rows then spill
    and write through instead of growing with the portfolio (DuckDB's default is 80 % of RAM)."""
    return duckdb.connect(str(path), read_only=read_only,
                          config={"memory_limit": duckdb_memory_limit(),
                                  "threads": duckdb_threads()})


def _raw_folder(parts: Path, table: str, bucket: int) -> Path:
    return parts / RAW_SCHEMA / table / f"_bucket={bucket}"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _routed_rows(table: str, partitions: int) -> str:
    """The table's rows with their bucket."""
    if table == BUREAU_BALANCE:
        owner = bucket_sql("b.sk_id_curr", partitions)
        own = bucket_sql("bb.sk_id_bureau", partitions)
        return (f"select bb.*, case when b.sk_id_curr is null then {own} else {owner} end "
                f"as _bucket from {RAW_SCHEMA}.{table} bb left join "
                f"(select sk_id_bureau, sk_id_curr from {RAW_SCHEMA}.bureau) b using (sk_id_bureau)")
    return (f"select *, {bucket_sql(CLIENT_KEY[table], partitions)} as _bucket "
            f"from {RAW_SCHEMA}.{table}")


def split_raw(build_db: Path, partitions: int) -> list[int]:
    """Write every raw table of `build_db` as one Parquet set per bucket; returns the clients
    (applications) of each bucket. A bucket without rows of a table gets an empty file with
    the table's columns."""
    parts = parts_folder(build_db)
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    con = _bounded(build_db, read_only=True)
    try:
        for table in [*CLIENT_KEY, BUREAU_BALANCE]:
            target = parts / RAW_SCHEMA / table
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy ({_routed_rows(table, partitions)}) to '{_sql_path(target)}' "
                        "(format parquet, partition_by (_bucket), filename_pattern 'part_{i}')")
            for bucket in range(partitions):
                folder = _raw_folder(parts, table, bucket)
                if not folder.exists():
                    folder.mkdir(parents=True)
                    con.execute(f"copy (select * from {RAW_SCHEMA}.{table} limit 0) to "
                                f"'{_sql_path(folder / 'part_0.parquet')}' (format parquet)")
        clients = dict(con.execute(
            f"select {bucket_sql('sk_id_curr', partitions)}, count(*) from (select sk_id_curr "
            f"from {RAW_SCHEMA}.application_train union all select sk_id_curr from "
            f"{RAW_SCHEMA}.application_test) group by 1").fetchall())
    finally:
        con.close()
    return [int(clients.get(b, 0)) for b in range(partitions)]


def create_bucket_db(parts: Path, bucket: int) -> Path:
    """A fresh DuckDB file for one bucket whose schema `raw` reads the bucket's Parquet files
    (views: nothing is copied)."""
    path = bucket_db_path(parts, bucket)
    remove_database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"create schema {RAW_SCHEMA}")
        for table in [*CLIENT_KEY, BUREAU_BALANCE]:
            files = _sql_path(_raw_folder(parts, table, bucket) / "*.parquet")
            con.execute(f"create view {RAW_SCHEMA}.{table} as select * from "
                        f"read_parquet('{files}', hive_partitioning = false)")
    finally:
        con.close()
    return path


def _out_folder(parts: Path, bucket: int) -> Path:
    return parts / "out" / f"bucket-{bucket}"


def export_tables(parts: Path, bucket: int, schemas: list[str]) -> list[str]:
    """Copy every base table of `schemas` in the bucket's file to Parquet (one file per table
    and bucket); returns the tables written as 'schema.table'."""
    out = _out_folder(parts, bucket)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(bucket_db_path(parts, bucket)), read_only=True)
    try:
        tables = _base_tables(con, schemas)
        for name in tables:
            con.execute(f"copy {name} to '{_sql_path(out / (name + '.parquet'))}' "
                        "(format parquet)")
    finally:
        con.close()
    return tables


def _base_tables(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> list[str]:
    listed = ", ".join(f"'{s}'" for s in schemas)
    return [f"{s}.{t}" for s, t in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = "
        f"current_database() and schema_name in ({listed}) order by 1, 2").fetchall()]


def gather_tables(build_db: Path, partitions: int, schemas: list[str],
                  with_views: bool = False) -> int:
    """Create in `build_db` every table the buckets exported for `schemas`, as bucket 0 declares
    it (types, constraints, comments), holding the rows of all buckets (bucket 0's only for a
    table without a client or bureau-credit key); with `with_views` also
    the views of those schemas (their SQL names no database, so it reads `build_db`'s tables).
    Returns the rows gathered."""
    parts = parts_folder(build_db)
    model = duckdb.connect(str(bucket_db_path(parts, 0)), read_only=True)
    try:
        tables = _base_tables(model, schemas)
        keyed = {f"{s}.{t}" for s, t in model.execute(
            "select distinct schema_name, table_name from duckdb_columns() where database_name "
            "= current_database() and column_name in ('sk_id_curr', 'sk_id_bureau')").fetchall()}
        table_sql = dict(model.execute(
            "select schema_name || '.' || table_name, sql from duckdb_tables() "
            "where database_name = current_database()").fetchall())
        views = _views_in_order(model, schemas) if with_views else []
        comments = _comments(model, schemas)
    finally:
        model.close()
    con = _bounded(build_db)
    gathered = 0
    try:
        for schema in schemas:
            con.execute(f"create schema if not exists {schema}")
        for name in tables:
            # a table keyed by client or bureau credit is the union of the buckets; any other
            # (the feature catalog, the compiled feature SQL) is the same in every bucket
            spread = range(partitions) if name in keyed else range(1)
            files = ", ".join(f"'{_sql_path(_out_folder(parts, b) / (name + '.parquet'))}'"
                              for b in spread)
            con.execute(f"drop table if exists {name}")
            con.execute(table_sql[name])
            gathered += con.execute(f"insert into {name} by name select * from "
                                    f"read_parquet([{files}], hive_partitioning = false)").fetchone()[0]
        for sql in views:
            con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
        for statement in comments:
            con.execute(statement)
    finally:
        con.close()
    return gathered


def _views_in_order(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> list[str]:
    """The views' SQL, schemas in the given order (staging before intermediate)."""
    rank = {s: i for i, s in enumerate(schemas)}
    rows = con.execute("select schema_name, view_name, sql from duckdb_views() where not "
                       "internal and database_name = current_database()").fetchall()
    return [sql for schema, _, sql in sorted((r for r in rows if r[0] in rank),
                                             key=lambda r: (rank[r[0]], r[1]))]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comments(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> list[str]:
    """COMMENT statements for the tables, views and columns of `schemas` (dbt's persist_docs)."""
    listed = ", ".join(f"'{s}'" for s in schemas)
    where = f"database_name = current_database() and schema_name in ({listed})"
    relations = con.execute(
        f"select 'TABLE', schema_name, table_name, comment from duckdb_tables() where {where} "
        f"and comment is not null union all select 'VIEW', schema_name, view_name, comment "
        f"from duckdb_views() where {where} and comment is not null").fetchall()
    columns = con.execute(
        f"select schema_name, table_name, column_name, comment from duckdb_columns() "
        f"where {where} and comment is not null").fetchall()
    return ([f"comment on {kind} {s}.{t} is {_quote(c)}" for kind, s, t, c in relations]
            + [f'comment on column {s}.{t}."{col}" is {_quote(c)}' for s, t, col, c in columns])


def remove_parts(build_db: Path) -> None:
    shutil.rmtree(parts_folder(build_db), ignore_errors=True)
