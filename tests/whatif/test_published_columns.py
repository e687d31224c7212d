"""The in-memory published features: float32 only for the columns it holds exactly, even when
the first inexact value comes late in the read."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest

from models_ml import published_columns
from models_ml.published_columns import load_published_columns


def test_a_column_turns_float64_at_its_first_inexact_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(published_columns, "READ_ROWS", 2048)
    con = duckdb.connect()
    con.execute("create schema marts")
    # `late` is whole (exact in float32) for the first batches, then takes tenths
    con.execute("create table marts.client_features as select range as sk_id_curr, "
                "case when range < 7000 then range else range + 0.1 end as late, "
                "range * 3 as counts, cast(null as double) as missing, "
                "cast(range as decimal(18, 3)) / 7 as ratio from range(10000)")
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_name = 'client_features'").fetchall())
    features = ["late", "counts", "missing", "ratio"]
    memory = load_published_columns(con.cursor(), "memory", features, 10000, types)
    assert [c.dtype for c in memory.columns] == [np.float64, np.float32, np.float32,
                                                 np.float64]
    rowids = np.array([0, 6999, 7000, 9999, 4242])
    expected = np.array(con.execute(
        "select late, counts, missing, cast(ratio as double) from marts.client_features "
        "where rowid in (0, 6999, 7000, 9999, 4242) order by rowid").fetchall(), dtype=float)
    got = memory.take(rowids)
    order = np.argsort(rowids)
    assert np.array_equal(got[order], expected, equal_nan=True)
    assert got.dtype == np.float64 and got[2, 0] == 7000.1
