"""`load_into`, `load_raw` and `pad load`: typed tables in schema `raw` equal the CSVs, the file is
readable by DuckDB 1.x, and nothing is published or left behind when the input is bad."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from flows.cli import main
from warehouse.config import PadPaths
from warehouse.errors import BadInput
from warehouse.raw.load import STORAGE_VERSION, load_into, load_raw
from warehouse.raw.schema import Table, tables

if TYPE_CHECKING:
    from tests.raw.conftest import CsvFiles


def csv_values(path: Path, table: Table) -> list[tuple]:
    """The file's rows converted the way the warehouse types them (empty = NULL)."""
    convert = {"int": int, "float": float, "str": str}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip().upper() for h in next(reader)]
        index = [header.index(c.name) for c in table.columns]
        cast = [convert[c.dtype] for c in table.columns]
        return [tuple(f(row[i]) if row[i] != "" else None for i, f in zip(index, cast, strict=True))
                for row in reader if row]


def loaded_values(con: duckdb.DuckDBPyConnection, table: Table) -> list[tuple]:
    return con.execute(f"SELECT * FROM raw.{table.name} ORDER BY rowid").fetchall()


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()


def test_round_trip_equals_the_csvs(raw_dir: Path, tmp_path: Path, work_dir: Path) -> None:
    db = tmp_path / "out" / "loaded.duckdb"
    result = load_into(db, raw_dir, work_dir)
    assert result.db_path == db and db.is_file()
    assert not db.with_name(db.name + ".wal").exists()
    assert sorted(p.name for p in db.parent.iterdir()) == ["loaded.duckdb"]
    with duckdb.connect(str(db), read_only=True) as con:
        names = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()}
        assert names == set(tables())
        for table in tables().values():
            expected = [(c.sql_name, c.duckdb_type) for c in table.columns]
            assert column_types(con, table.name) == expected
            rows = loaded_values(con, table)
            assert rows == csv_values(raw_dir / table.file, table), table.name
            assert result.rows[table.name] == len(rows)


def test_first_row_values_spot_check(raw_dir: Path, tmp_path: Path, work_dir: Path,
                                     files: CsvFiles) -> None:
    db = load_into(tmp_path / "loaded.duckdb", raw_dir, work_dir).db_path
    with duckdb.connect(str(db), read_only=True) as con:
        first = con.execute(
            "SELECT sk_id_bureau, sk_id_curr, credit_active, amt_credit_sum FROM raw.bureau "
            "ORDER BY rowid LIMIT 1"
        ).fetchone()
    assert first[0] == int(files.value("bureau.csv", 2, "SK_ID_BUREAU"))
    assert first[1] == int(files.value("bureau.csv", 2, "SK_ID_CURR"))
    assert first[2] == files.value("bureau.csv", 2, "CREDIT_ACTIVE")
    text = files.value("bureau.csv", 2, "AMT_CREDIT_SUM")
    assert first[3] == (float(text) if text else None)


def test_file_uses_storage_readable_by_duckdb_1(raw_dir: Path, tmp_path: Path,
                                               work_dir: Path) -> None:
    db = load_into(tmp_path / "loaded.duckdb", raw_dir, work_dir).db_path
    with duckdb.connect(str(db), read_only=True) as con:
        tags = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
    assert tags["storage_version"].startswith(STORAGE_VERSION)


def test_columns_are_mapped_by_name_and_extras_not_loaded(raw_dir: Path, tmp_path: Path,
                                                          work_dir: Path,
                                                          files: CsvFiles) -> None:
    header, rows = files.read("credit_card_balance.csv")
    table = tables()["credit_card_balance"]
    expected = csv_values(files.path("credit_card_balance.csv"), table)
    order = list(reversed(range(len(header))))
    files.write("credit_card_balance.csv", ["NOTE", *(header[i].lower() for i in order)],
                [["n", *(r[i] for i in order)] for r in rows])
    result = load_into(tmp_path / "loaded.duckdb", raw_dir, work_dir)
    assert "credit_card_balance.csv: unknown column(s) not loaded: NOTE" in result.report.warnings
    with duckdb.connect(str(result.db_path), read_only=True) as con:
        assert [c for c, _ in column_types(con, table.name)] == [c.sql_name for c in table.columns]
        assert loaded_values(con, table) == expected


def test_zip_input_loads_and_cleans_up(zip_path: Path, raw_dir: Path, tmp_path: Path,
                                       work_dir: Path) -> None:
    result = load_into(tmp_path / "loaded.duckdb", zip_path, work_dir)
    table = tables()["bureau_balance"]
    with duckdb.connect(str(result.db_path), read_only=True) as con:
        assert loaded_values(con, table) == csv_values(raw_dir / table.file, table)
    assert list(work_dir.iterdir()) == []


def test_load_raw_defaults_to_a_new_file_under_build(raw_dir: Path, tmp_path: Path) -> None:
    paths = PadPaths(tmp_path / "home")
    first = load_raw(raw_dir, out=None, paths=paths)
    second = load_raw(raw_dir, out=None, paths=paths)
    assert first.db_path.parent == paths.build and second.db_path.parent == paths.build
    assert first.db_path != second.db_path
    assert f"into schema raw of {first.db_path}" in first.render()
    assert "bureau_balance.csv" in first.render()


def test_nothing_written_on_failure(raw_dir: Path, tmp_path: Path, work_dir: Path,
                                    files: CsvFiles) -> None:
    files.set_value("installments_payments.csv", 30, "AMT_PAYMENT", "12,5")
    out = tmp_path / "out"
    with pytest.raises(BadInput, match=r"^installments_payments.csv: line 30, column AMT_PAYMENT"):
        load_into(out / "loaded.duckdb", raw_dir, work_dir)
    assert list(out.iterdir()) == []
    assert list(work_dir.iterdir()) == []


def test_failure_leaves_an_existing_target_untouched(raw_dir: Path, zip_path: Path,
                                                     tmp_path: Path, work_dir: Path) -> None:
    target = tmp_path / "loaded.duckdb"
    load_into(target, raw_dir, work_dir)
    before = target.read_bytes()
    zip_path.write_bytes(zip_path.read_bytes()[:1000])
    with pytest.raises(BadInput):
        load_into(target, zip_path, work_dir)
    (raw_dir / "bureau.csv").write_bytes(b"")
    with pytest.raises(BadInput, match="bureau.csv: empty file"):
        load_into(target, raw_dir, work_dir)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["raw", "work", "loaded.duckdb", zip_path.name]
    )


def test_success_replaces_an_existing_target(raw_dir: Path, tmp_path: Path, work_dir: Path,
                                             files: CsvFiles) -> None:
    target = tmp_path / "loaded.duckdb"
    load_into(target, raw_dir, work_dir)
    files.write_lines("bureau.csv", files.lines("bureau.csv")[:6])
    result = load_into(target, raw_dir, work_dir)
    assert result.rows["bureau"] == 5
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.bureau").fetchone()[0] == 5


def test_file_named_like_the_schema_loads(raw_dir: Path, tmp_path: Path, work_dir: Path) -> None:
    # DuckDB names a file's catalog after it: raw.duckdb must not make `raw.<table>` ambiguous.
    target = load_into(tmp_path / "raw.duckdb", raw_dir, work_dir).db_path
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{target}' AS loaded (READ_ONLY)")
        assert con.execute("SELECT count(*) FROM loaded.raw.bureau").fetchone()[0] > 0


def test_target_that_is_a_folder_is_bad_usage(raw_dir: Path, tmp_path: Path,
                                              work_dir: Path) -> None:
    with pytest.raises(BadInput, match="is a folder, expected a DuckDB file path"):
        load_into(tmp_path, raw_dir, work_dir)


def test_cli_load_bad_input_exits_2_and_publishes_nothing(
    raw_dir: Path, files: CsvFiles, pad_home: PadPaths, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = files.value("previous_application.csv", 2, "SK_ID_PREV")
    files.set_value("previous_application.csv", 9, "SK_ID_PREV", key)
    out = tmp_path / "cli.duckdb"
    assert main(["load", "--raw", str(raw_dir), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"pad load: previous_application.csv: line 9: duplicate SK_ID_PREV {key} "
        "(first seen on line 2)\n"
    )
    assert not out.exists()
    assert not pad_home.build.exists() or list(pad_home.build.iterdir()) == []


def test_cli_load_default_output(raw_dir: Path, pad_home: PadPaths,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--raw", str(raw_dir)]) == 0
    built = list(pad_home.build.glob("*.duckdb"))
    assert len(built) == 1
    assert capsys.readouterr().out.startswith("loaded ")
