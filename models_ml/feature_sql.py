"""Feature rows of edited applications, computed by the very SQL that built the feature mart.

dbt stores the compiled SQL of the three models that define a client's application features
(stg_homecredit__applications → int_applications_enriched → client_features) in
`marts.feature_sql` (post-hook macros/record_compiled_sql.sql). This module rewrites their
relation names once into one query template:

    raw.application_train   → the candidate applications (raw rows with the edits applied)
    raw.application_test    → the same relation, empty (a candidate is staged once)
    stg / int_applications  → the two rewritten models, as CTEs
    intermediate.int_*      → the client's published history aggregates (bureau, previous
                              applications, POS, instalments, cards), re-keyed to the candidate

and selects the model's features from the rewritten client_features. So an edited application
goes through the same staging, the same application features and the same cross-table features
as the batch; only the application row differs. No feature formula lives in Python.

Candidates are a relation `__whatif_candidates` (row_key, sk_id_curr, then the raw columns an
edit can change, null where the published value stays): one row per scored application, any number of rows
(`row_key` tells the candidates of one client apart; it takes the place of sk_id_curr inside the
template, which nothing uses but as a join key).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np

from models_ml.features import arrow_to_matrix
from models_ml.sql_prune import depends_on, needed_names, parse, prune_select_lists
from warehouse.errors import RunFailure

if TYPE_CHECKING:
    from models_ml.published_columns import PublishedColumns

FEATURE_SQL_TABLE = "marts.feature_sql"
STAGING_MODEL = "stg_homecredit__applications"
APPLICATION_MODEL = "int_applications_enriched"
MART_MODEL = "client_features"
CANDIDATES = "__whatif_candidates"
CATALOG_MARK = "__whatif_catalog__"
# "<database>"."<schema>"."<table>" as dbt-duckdb renders a relation
# the feature queries fetch Arrow from execute(), not sql() (see compute_features): DuckDB
# warns that this copies the rows, which for these few rows costs far less than a second bind
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
_RELATION = re.compile(r'"[^"]*"\."(raw|staging|intermediate|marts)"\."([a-z0-9_]+)"')


def read_compiled_sql(con: duckdb.DuckDBPyConnection, catalog: str | None = None
                      ) -> dict[str, str]:
    """model name → compiled SQL, as stored by the dbt build of the marts."""
    prefix = f"{catalog}." if catalog else ""
    try:
        rows = con.execute(f"select model_name, compiled_sql from {prefix}{FEATURE_SQL_TABLE}"
                           ).fetchall()
    except duckdb.CatalogException as exc:
        raise RunFailure(f"{FEATURE_SQL_TABLE} is missing: rebuild the marts with dbt") from exc
    stored = dict(rows)
    missing = [m for m in (STAGING_MODEL, APPLICATION_MODEL, MART_MODEL) if m not in stored]
    if missing:
        raise RunFailure(f"{FEATURE_SQL_TABLE} lacks the compiled SQL of {missing[0]}")
    return stored


# the raw columns a what-if edit can change, with their raw types (warehouse/raw/load.py)
EDITABLE_RAW: tuple[tuple[str, str], ...] = (
    ("amt_credit", "double"), ("amt_annuity", "double"), ("amt_goods_price", "double"),
    ("amt_income_total", "double"), ("days_employed", "bigint"),
    ("name_contract_type", "varchar"), ("cnt_children", "bigint"),
    ("cnt_fam_members", "double"), ("flag_own_car", "varchar"), ("flag_own_realty", "varchar"),
)
RAW_TABLES = ("application_train", "application_test")
KEY = "sk_id_curr"


def _star_or(columns: list[str] | None, alias: str = "") -> str:
    """`alias.*` (every column) or the listed ones."""
    if columns is None:
        return f"{alias}*"
    return ", ".join(f'{alias}"{c}"' for c in columns)


def _raw_applications(columns: dict[str, list[str]] | None) -> str:
    """The client's raw application rows with the candidates' edited columns swapped in."""
    selects = " union all by name ".join(
        f"select {_star_or(columns and columns[table])} from {CATALOG_MARK}.raw.{table}"
        for table in RAW_TABLES)
    # a candidate's null means "as published"
    swapped = ", ".join(f"cast(coalesce(c.{col}, a.{col}) as {kind}) as {col}"
                        for col, kind in EDITABLE_RAW)
    return (f"(select c.row_key as {KEY}, a.* exclude ({KEY}) replace ({swapped}) "
            f"from {CANDIDATES} c join ({selects}) a on a.{KEY} = c.{KEY})")


def _rewrite(sql: str, columns: dict[str, list[str]] | None) -> str:
    def relation(match: re.Match[str]) -> str:
        schema, table = match.groups()
        if (schema, table) == ("raw", "application_train"):
            return "__whatif_raw"
        if (schema, table) == ("raw", "application_test"):
            return "(select * exclude (target) from __whatif_raw limit 0)"
        if (schema, table) == ("staging", STAGING_MODEL):
            return "__whatif_staged"
        if (schema, table) == ("intermediate", APPLICATION_MODEL):
            return "__whatif_application"
        if schema == "intermediate":
            # the published aggregates of the candidate's client, under the candidate's key
            chosen = "i.* exclude (sk_id_curr)" if columns is None else \
                ", ".join([f'i."{c}"' for c in columns[table]] or ["1 as __none"])
            return (f"(select c.row_key as {KEY}, {chosen} "
                    f"from {CANDIDATES} c join {CATALOG_MARK}.intermediate.{table} i "
                    f"on i.{KEY} = c.{KEY})")
        raise RunFailure(f"{FEATURE_SQL_TABLE}: unexpected relation {schema}.{table} in the "
                         "application features; teach models_ml.feature_sql about it")
    return _RELATION.sub(relation, sql)


def _assemble(compiled: dict[str, str], features: list[str],
              columns: dict[str, list[str]] | None) -> str:
    selected = ", ".join(f'"{f}"' for f in features)
    return (f"with __whatif_raw as {_raw_applications(columns)},\n"
            f"__whatif_staged as (\n{_rewrite(compiled[STAGING_MODEL], columns)}\n),\n"
            f"__whatif_application as (\n{_rewrite(compiled[APPLICATION_MODEL], columns)}\n),\n"
            f"__whatif_mart as (\n{_rewrite(compiled[MART_MODEL], columns)}\n)\n"
            f"select {KEY} as row_key, {selected} from __whatif_mart")


def _input_columns(con: duckdb.DuckDBPyConnection, catalog: str | None) -> dict[str, list[str]]:
    """Columns of the raw application tables and of the intermediate tables, by table name."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = coalesce(?, current_database()) and ((table_schema = 'raw' "
        "and table_name in ('application_train', 'application_test')) "
        "or table_schema = 'intermediate') order by table_name, ordinal_position",
        [catalog]).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def edited_features(con: duckdb.DuckDBPyConnection, compiled: dict[str, str],
                    features: list[str]) -> list[str]:
    """The features an edit can change: those whose SQL reads an editable raw column. The
    others are the client's published values (marts.client_features)."""
    tree = parse(con, _assemble(compiled, features, None))
    return depends_on(tree, features, {column for column, _ in EDITABLE_RAW})


def feature_query(con: duckdb.DuckDBPyConnection, compiled: dict[str, str],
                  features: list[str], catalog: str | None = None) -> str:
    """The query template: (row_key, features…) of every candidate, pruned to what the
    features need (models_ml.sql_prune) and reading only those input columns.

    Its catalog is left as a mark (`bind_catalog`): the published warehouse is attached
    under another name at serve time than the build file has at refresh time."""
    keep = {"row_key", KEY, *features}
    _, needed = prune_select_lists(con, _assemble(compiled, features, None), keep)
    available = _input_columns(con, catalog)
    chosen = {table: [c for c in cols if c in needed and c != KEY]
              for table, cols in available.items()}
    for table in RAW_TABLES:
        # the key, the target (the staging reads it) and the columns an edit replaces
        fixed = [KEY] + (["target"] if table == "application_train" else []) + \
            [c for c, _ in EDITABLE_RAW]
        chosen[table] = fixed + [c for c in chosen[table] if c not in fixed]
    pruned, _ = prune_select_lists(con, _assemble(compiled, features, chosen), keep)
    return pruned


@dataclass(frozen=True)
class MartRows:
    """Where each client's row of marts.client_features sits in one read-only snapshot.

    Why: the mart is not stored in sk_id_curr order, so `sk_id_curr in (a, b, …)` reads every
    one of its ~330 columns for all 356k clients (≈ 270 ms for 8 clients), while
    `rowid = any([…])` fetches only the row groups holding those rows (≈ 40 ms)."""

    ids: np.ndarray              # sk_id_curr, sorted
    rowids: np.ndarray           # the mart's rowid of each

    def of(self, clients: np.ndarray) -> np.ndarray | None:
        """The rowids of `clients` (None when one of them has no mart row)."""
        at = np.searchsorted(self.ids, clients)
        inside = at < len(self.ids)
        if not inside.all() or not (self.ids[at] == clients).all():
            return None
        return self.rowids[at]


def mart_rows(cur: duckdb.DuckDBPyConnection, catalog: str) -> MartRows:
    """The rowid of every client in marts.client_features (≈ 15 ms at 356k clients). Valid
    for as long as the same file stays attached read-only."""
    table = cur.execute(f"select {KEY}, rowid from {quoted(catalog)}.marts.client_features "
                        f"order by {KEY}").fetchnumpy()
    return MartRows(ids=np.asarray(table[KEY], dtype=np.int64),
                    rowids=np.asarray(table["rowid"], dtype=np.int64))


@dataclass(frozen=True)
class PointLookup:
    """What makes the feature rows of a few clients cheap on one attached snapshot, computed
    once per snapshot: where their mart rows sit, and which input columns the query reads."""

    rows: MartRows
    columns: dict[str, list[str]]
    mart_types: dict[str, str]   # the mart's column → its DuckDB type
    # the published features an edit cannot change, in memory (models_ml.published_columns)
    memory: PublishedColumns | None = None


def point_lookup(cur: duckdb.DuckDBPyConnection, template: str, features: list[str],
                 catalog: str) -> PointLookup:
    types = dict(cur.execute(
        "select column_name, data_type from information_schema.columns where table_catalog "
        "= ? and table_schema = 'marts' and table_name = 'client_features'", [catalog]
    ).fetchall())
    return PointLookup(rows=mart_rows(cur, catalog),
                       columns=template_columns(cur, template, features, catalog),
                       mart_types=types)


# read as they are stored: pyarrow/numpy turn them into float64 as DuckDB's cast does (nulls
# → NaN), and binding ~330 casts was a third of the lookup's planning
AS_STORED = {"DOUBLE", "BIGINT", "INTEGER"}


def as_double(feature: str, types: dict[str, str] | None) -> str:
    if types is not None and types.get(feature) in AS_STORED:
        return f'"{feature}"'
    return f'cast("{feature}" as double) as "{feature}"'


def published_features(cur: duckdb.DuckDBPyConnection, catalog: str, features: list[str],
                       ids: str, rowids: np.ndarray | None = None,
                       types: dict[str, str] | None = None) -> dict[int, np.ndarray]:
    """sk_id_curr → the clients' published values of `features` (marts.client_features);
    `rowids` (MartRows.of the same clients) fetches those rows instead, `types`
    (PointLookup.mart_types) saves the casts that change nothing."""
    where = f"rowid = any([{literal_ids(rowids)}])" if rowids is not None else \
        f"{KEY} in ({ids})"
    table = cur.execute(f"select {KEY}, " + ", ".join(as_double(f, types) for f in features)
                        + f" from {quoted(catalog)}.marts.client_features where {where}"
                        ).to_arrow_table()
    X = arrow_to_matrix(table, features, np.float64)
    return {int(k): X[i] for i, k in enumerate(table.column(KEY).to_numpy())}


def quoted(catalog: str) -> str:
    return '"' + catalog.replace('"', '""') + '"'


_INPUT_TABLE = re.compile(rf'"?{CATALOG_MARK}"?\."?(raw|intermediate)"?\."?([a-z0-9_]+)"?')


def bind_catalog(template: str, catalog: str, ids: str | None = None,
                 columns: dict[str, list[str]] | None = None) -> str:
    """The template reading the database attached as `catalog` (quoted: a build file's
    catalog is named after the file, e.g. refresh-20261130T163957-28f6f3).

    `ids` (SQL: a list of ids, or a query of them) restricts every input table to those
    clients before the joins: a point lookup then reads one row of each table, not the
    hundreds of columns of all 356k clients the optimiser would otherwise scan. `columns`
    (`template_columns`) names what the restricted tables select instead of `*`: binding the
    ~830 columns of the input tables was a third of a point lookup's planning."""
    in_catalog = quoted(catalog)

    def table(match: re.Match[str]) -> str:
        schema, name = match.groups()
        ref = f"{in_catalog}.{schema}.{name}"
        chosen = ", ".join(f'"{c}"' for c in columns[name]) if columns and name in columns \
            else "*"
        return f"(select {chosen} from {ref} where {KEY} in ({ids}))" if ids else ref
    return _INPUT_TABLE.sub(table, template)


def template_columns(cur: duckdb.DuckDBPyConnection, template: str, features: list[str],
                     catalog: str) -> dict[str, list[str]]:
    """Input table → its columns that the template's `features` depend on (DuckDB's parser;
    names compared unqualified, so a superset, as in models_ml.sql_prune). The template's
    stars range over explicit select lists only (feature_query), never over an input table."""
    named = needed_names(parse(cur, template), {"row_key", KEY, *features})
    tables = {name for _, name in _INPUT_TABLE.findall(template)}
    rows = cur.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = ? and table_schema in ('raw', 'intermediate') "
        "order by table_name, ordinal_position", [catalog]).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        if table in tables and (column in named or column == KEY):
            columns.setdefault(table, []).append(column)
    return columns


def literal_ids(ids: np.ndarray) -> str:
    """Client ids as an SQL list of integer literals (ints only: safe to splice)."""
    return ", ".join(str(int(i)) for i in np.unique(ids)) or "null"


def compute_features(cur: duckdb.DuckDBPyConnection, query: str, features: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(row keys, float64 feature matrix) of the candidates visible as `__whatif_candidates`
    on `cur` (a registered Arrow table or a temp table)."""
    # execute, not sql(): a relation is bound twice (sql() then the fetch), ~40 % more planning
    table = cur.execute(query).to_arrow_table()
    keys = np.asarray(table.column("row_key").to_numpy(), dtype=np.int64)
    return keys, arrow_to_matrix(table, features, np.float64)
