"""The `client_bucketed_table` materialization writes client_features one bucket of clients at a
time: every client must land in exactly one bucket, whatever its id."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse.dbt_runner import build_marts
from warehouse.raw.generate import generate_portfolio
from warehouse.raw.load import load_into

pytestmark = pytest.mark.dbt


def with_negative_client_id(raw: Path) -> int:
    """Give the first pending client the id -7 (SQL's `%` keeps the sign: -7 % 4 = -3)."""
    path = raw / "application_test.csv"
    lines = path.read_bytes().split(b"\r\n")
    fields = lines[1].split(b",")
    fields[0] = b"-7"
    lines[1] = b",".join(fields)
    path.write_bytes(b"\r\n".join(lines))
    return -7


def test_a_negative_client_id_is_in_one_bucket(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    generate_portfolio(clients=300, out_dir=raw, seed=5)
    client = with_negative_client_id(raw)
    db_path = tmp_path / "warehouse.duckdb"
    load_into(db_path, raw, work_dir=tmp_path / "load")
    build_marts(db_path, target_dir=tmp_path / "target", log_dir=tmp_path / "logs")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("select count(*) from marts.client_features where sk_id_curr = ?",
                           [client]).fetchone()[0]
        total = con.execute("select count(*) from marts.client_features").fetchone()[0]
    finally:
        con.close()
    assert (rows, total) == (1, 300)
