"""read_history: the training rows in sk_id_curr order whatever the mart's storage order."""
from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from models_ml.features import connect, list_feature_columns, read_history
from tests.models_ml.synthetic import make_features


def test_history_rows_come_sorted_by_id_with_their_targets_and_values(tmp_path: Path) -> None:
    frame = make_features(400, seed=3)
    # stored in a shuffled order, pending clients interleaved
    stored = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    db = tmp_path / "mart.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.register("_rows", stored)
    con.execute("create table marts.client_features as select * from _rows")
    con.close()

    con = connect(db, read_only=True)
    features = list_feature_columns(con)
    history = read_history(con, features)
    con.close()

    expected = frame[(frame["population"] == "history") & frame["target"].notna()] \
        .sort_values("sk_id_curr")
    assert np.array_equal(history.ids, expected["sk_id_curr"].to_numpy())
    assert np.array_equal(history.y, expected["target"].to_numpy().astype(np.int8))
    want = expected[features].to_numpy(dtype=np.float32, na_value=np.nan)
    assert np.array_equal(history.X, want, equal_nan=True)
    assert history.X.flags.c_contiguous and history.X.dtype == np.float32
