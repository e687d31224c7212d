"""flows.publish: what a killed refresh leaves in the build folder is cleaned by the next one."""
from __future__ import annotations

from pathlib import Path

from flows.publish import clean_stale_builds
from warehouse.config import pad_paths


def test_a_killed_runs_file_wal_and_spill_folder_are_removed(tmp_path: Path) -> None:
    paths = pad_paths(tmp_path)
    spill = paths.build / "refresh-20261202T101500Z-ab12.duckdb.tmp"
    spill.mkdir(parents=True)  # DuckDB's spill folder of a run killed while it spilled
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"x")
    (paths.build / "refresh-20261202T101500Z-ab12.duckdb").write_bytes(b"x")
    (paths.build / "refresh-20261202T101500Z-ab12.duckdb.wal").write_bytes(b"x")
    (paths.build / "refresh-20261202T090000Z-cd34.duckdb.wal").write_bytes(b"x")  # WAL alone
    (paths.build / "bench-load.duckdb").write_bytes(b"x")  # not a refresh's: kept
    removed = clean_stale_builds(paths)
    assert len(removed) == 4
    assert sorted(p.name for p in paths.build.iterdir()) == ["bench-load.duckdb"]
