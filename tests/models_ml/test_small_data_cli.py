"""`pad refresh` on the first 199 rows of each file of a generated portfolio (what `head -200`
of the real Kaggle files gives: orphans included) exits 2 with one line saying what is missing,
and registers or publishes nothing (issue 9, defect 3)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAD_ROWS = 199


def head_of_each_file(raw: Path, out: Path, rows: int) -> Path:
    out.mkdir(parents=True)
    for source in raw.glob("*.csv"):
        if source.name == "truth.csv":
            continue
        with source.open() as lines, (out / source.name).open("w") as head:
            for number, line in enumerate(lines):
                if number > rows:
                    break
                head.write(line)
    return out


def defaults_in(application_train: Path) -> int:
    with application_train.open(newline="") as f:
        return sum(row["TARGET"] == "1" for row in csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.dbt
def test_refresh_on_a_199_row_head_exits_2_with_one_line(small_raw: Path, tmp_path: Path
                                                          ) -> None:
    raw = head_of_each_file(small_raw, tmp_path / "head", HEAD_ROWS)
    home = tmp_path / "home"
    env = {**os.environ, "PAD_HOME": str(home), "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "flows.cli", "refresh", "--raw", str(raw)],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)
    defaults = defaults_in(raw / "application_train.csv")
    assert done.returncode == 2, done.stderr[-3000:]
    expected = (f"pad refresh: training needs at least 1,000 history clients and 50 defaults; "
                f"found {HEAD_ROWS} and {defaults} (history clients = application_train rows "
                "with a TARGET)")
    assert [line for line in done.stderr.splitlines() if line.startswith("pad refresh:")] == [
        expected]
    assert "Traceback" not in done.stderr and "BadInput" not in done.stderr
    assert not (home / "warehouse.duckdb").exists()
    assert not any((home / "models").glob("*/model.txt"))
