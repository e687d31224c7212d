"""The feature mart before and after the performance round (issue 14) are the same features.

"Before" is the dbt project of commit d47b36e, taken from this repository's own history
(`git archive`) and built on the same loaded portfolio as the session's build; the comparison is
warehouse.mart_diff: every column and client, integers, picked values (min, max, last, counts)
and NULLs exactly, other floats to a relative 1e-12.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import duckdb
import pytest

from tests.warehouse.conftest import Build
from warehouse.config import REPO_ROOT
from warehouse.mart_diff import compare_marts

pytestmark = pytest.mark.dbt

BEFORE_COMMIT = "d47b36e"  # main before the round-2 performance work


def project_at(commit: str, target: Path) -> Path:
    """The dbt project (warehouse/ and profiles.yml) of `commit`, extracted under `target`."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit, "warehouse",
             "profiles.yml"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"commit {commit} not available in this checkout ({exc})")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture(scope="module")
def before_mart(dbt_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("mart-before")
    project = project_at(BEFORE_COMMIT, work / "project")
    db_path = work / "before.duckdb"
    # the same raw tables the session's build started from: its file, marts dropped
    shutil.copyfile(dbt_build.db_path, db_path)
    con = duckdb.connect(str(db_path))
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    con.close()
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "PAD_DBT_PATH": str(db_path), "PAD_HOME": str(work)}
    subprocess.run(
        [str(dbt), "--quiet", "build", "--selector", "marts",
         "--project-dir", str(project / "warehouse"), "--profiles-dir", str(project),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env=env, check=True, cwd=work)
    return db_path


def test_mart_is_the_same_features_as_before(before_mart: Path, dbt_build: Build) -> None:
    diff = compare_marts(before_mart, dbt_build.db_path)
    assert diff.same, diff.render()
    assert diff.clients > 100 and diff.columns > 800


def test_the_comparison_sees_a_last_digit_a_null_and_a_missing_client(
        dbt_build: Build, tmp_path: Path) -> None:
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(dbt_build.db_path, changed)
    con = duckdb.connect(str(changed))
    client = con.execute("SELECT min(sk_id_curr) FROM marts.client_features "
                         "WHERE app_payment_rate > 0 AND app_amt_credit > 0 AND pos_count > 0 "
                         "AND bureau_days_credit_var IS NOT NULL "
                         "AND inst_payment_perc_var IS NOT NULL AND inst_payment_perc_mean > 0"
                         ).fetchone()[0]
    # a variance's rounding is at the scale of its mean: 2 (eps * mean)^2 more is the same
    con.execute("UPDATE marts.client_features SET app_amt_credit = app_amt_credit * (1 + 1e-14), "
                "app_payment_rate = app_payment_rate * (1 + 1e-14), pos_count = pos_count + 1, "
                "bureau_days_credit_var = bureau_days_credit_var * (1 + 1e-9), "
                "inst_payment_perc_var = inst_payment_perc_var "
                "+ 2 * pow(2.220446049250313e-16 * inst_payment_perc_mean, 2) "
                "WHERE sk_id_curr = ?", [client])
    con.execute("UPDATE marts.client_features SET prev_count = NULL WHERE sk_id_curr = "
                "(SELECT min(sk_id_curr) FROM marts.client_features WHERE prev_count IS NOT NULL)")
    con.execute("DELETE FROM marts.client_features WHERE sk_id_curr = "
                "(SELECT max(sk_id_curr) FROM marts.client_features)")
    con.close()
    diff = compare_marts(dbt_build.db_path, changed)
    differing = {d.column: (d.rule, d.differing) for d in diff.columns_differing}
    # an application value is exact (a last-digit change counts), a ratio is within 1e-12 of a
    # last-digit change, a variance within its rounding floor, but a variance 1e-9 off is not;
    # a count, a NULL and a client always count
    assert differing == {"app_amt_credit": ("exact", 1), "pos_count": ("exact", 1),
                         "bureau_days_credit_var": ("variance", 1), "prev_count": ("exact", 1)}
    assert diff.problems == ["client sets differ: 1 clients in one build only"]
    assert not diff.same
