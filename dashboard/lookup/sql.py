"""The lookup layer's errors, limits and small SQL helpers (no state).

Safety: values always travel as parameters; the only identifiers spliced into SQL are feature
column names, accepted only when they are columns of `serving.client_feature_values`, and
quoted by `quote`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np

from dashboard.schemas import utc_jsonable
from i18n import Message

PUBLISHED = "published"
S = f"{PUBLISHED}.serving"
MAX_ID = 2**63 - 1
MAX_LIMIT = 1000
SIMILAR_K = 50


class WarehouseUnavailable(RuntimeError):
    """No published warehouse yet, or one without the serving tables (API: 503)."""


class ClientNotFound(LookupError):
    """No such client in the published warehouse (API: 404)."""


class InvalidRequest(ValueError):
    """A well-typed but meaningless request, e.g. an unknown feature (API: 422)."""


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_id(sk_id_curr: int) -> None:
    """404 for an id no client can have (outside DuckDB's BIGINT)."""
    if not 0 <= sk_id_curr <= MAX_ID:
        raise client_not_found(sk_id_curr)


def client_not_found(sk_id_curr: int) -> ClientNotFound:
    """The 404 of a client id, as a coded message (answered in the reader's language)."""
    return ClientNotFound(Message("error", "client_not_found", sk_id_curr=str(sk_id_curr)))


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def clean(value: Any) -> Any:
    # NaN/inf are not JSON; the warehouse means "missing" by them (CONTRACTS §5)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_jsonable(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def fetch(cur: duckdb.DuckDBPyConnection, sql: str,
          params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [{n: clean(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def column_values(cur: duckdb.DuckDBPyConnection, sql: str,
                  params: Sequence[Any] = ()) -> np.ndarray:
    """The single column of `sql` as floats, NULL → NaN (fetchnumpy masks NULLs, and a
    masked array cast to float would expose whatever lies under the mask)."""
    column = next(iter(cur.execute(sql, list(params)).fetchnumpy().values()))
    return np.ma.filled(np.ma.asarray(column).astype(float), np.nan)


def columns_of(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of `serving.<table>` in the published file, in order."""
    rows = cur.execute("select column_name from duckdb_columns() where database_name = ? "
                       "and schema_name = 'serving' and table_name = ? order by column_index",
                       [PUBLISHED, table]).fetchall()
    if not rows:
        raise WarehouseUnavailable(f"the published warehouse has no serving.{table}")
    return [r[0] for r in rows]
