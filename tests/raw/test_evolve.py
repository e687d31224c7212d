"""`pad sample --months M --drift SPEC`: the portfolio month after month."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.errors import BadInput
from warehouse.raw.evolve import MATURE_SHARE, generate_months, month_dir
from warehouse.raw.schema import TRUTH_FILE, kaggle_files
from warehouse.raw.synth.drift import parse_drift
from warehouse.raw.validate import validate_raw

CLIENTS, SEED, MONTHS = 400, 3, 3
DRIFT = "income=-0.30,ext_source_3=-0.15"


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drifted")
    generate_months(CLIENTS, out, MONTHS, seed=SEED, drift=parse_drift(DRIFT))
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plain")
    generate_months(CLIENTS, out, MONTHS, seed=SEED)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in [*kaggle_files(), TRUTH_FILE]}


def _csv(path: Path) -> str:
    return f"read_csv('{path}', header = true, hive_partitioning = false)"


def test_every_month_is_a_complete_valid_export(drifted: Path) -> None:
    for month in range(MONTHS + 1):
        folder = month_dir(drifted, month)
        assert sorted(p.name for p in folder.glob("*.csv")) == sorted([*kaggle_files(),
                                                                      TRUTH_FILE])
        report = validate_raw(folder, work_dir=drifted / ".work")
        assert report.rows["application_train"] > 0


def test_same_inputs_same_bytes(drifted: Path, tmp_path: Path) -> None:
    generate_months(CLIENTS, tmp_path, MONTHS, seed=SEED, drift=parse_drift(DRIFT))
    for month in range(MONTHS + 1):
        assert _digest(month_dir(tmp_path, month)) == _digest(month_dir(drifted, month))


def test_outcomes_arrive_and_histories_only_grow(drifted: Path) -> None:
    con = duckdb.connect()
    for month in range(1, MONTHS + 1):
        before, after = month_dir(drifted, month - 1), month_dir(drifted, month)
        # views, as the SQL below names them (a Python variable would be found by name too)
        for name, month_folder, columns, file in [
            ("old_train", before, "*", "application_train.csv"),
            ("new_train", after, "*", "application_train.csv"),
            ("new_pending", after, "SK_ID_CURR", "application_test.csv"),
        ]:
            con.sql(f"select {columns} from {_csv(month_folder / file)}").create_view(name)
        old_pending = con.sql(f"select SK_ID_CURR from {_csv(before / 'application_test.csv')}")
        truth = con.sql(f"select * from {_csv(after / TRUTH_FILE)}")
        # every old history row is still there, unchanged
        assert con.sql("select count(*) from (select * from old_train except all "
                       "select * from new_train)").fetchall()[0][0] == 0
        matured = con.sql("select n.SK_ID_CURR, n.TARGET from new_train n "
                          "join old_pending p using (SK_ID_CURR)").fetchall()
        assert 0.25 * len(old_pending) < len(matured) < 0.75 * len(old_pending)  # ≈ MATURE_SHARE
        outcomes = dict(con.sql("select sk_id_curr, outcome from truth").fetchall())
        assert all(target == outcomes[client] for client, target in matured)
        arrivals = con.sql("select SK_ID_CURR from new_pending except "
                           "select SK_ID_CURR from old_pending").fetchall()
        first_new = con.sql("select max(sk_id_curr) from read_csv("
                            f"'{before / TRUTH_FILE}', hive_partitioning = false)"
                            ).fetchall()[0][0] + 1
        assert min(a for (a,) in arrivals) == first_new
        assert len(truth) == con.sql(f"select count(*) from {_csv(before / TRUTH_FILE)}"
                                     ).fetchall()[0][0] + len(arrivals)
        for name in ("bureau.csv", "installments_payments.csv"):  # behaviour rows only append
            old, new = (before / name).read_bytes(), (after / name).read_bytes()
            assert new.startswith(old) and len(new) > len(old)
    assert MATURE_SHARE == 0.5


def test_drift_moves_only_the_touched_columns_by_the_known_amount(drifted: Path,
                                                                  plain: Path) -> None:
    con = duckdb.connect()
    last = MONTHS
    for name in ("bureau.csv", "previous_application.csv", "installments_payments.csv"):
        assert (month_dir(drifted, last) / name).read_bytes() == \
            (month_dir(plain, last) / name).read_bytes()
    rows = con.sql(f"""
        select d.AMT_INCOME_TOTAL / p.AMT_INCOME_TOTAL as income_ratio,
               d.EXT_SOURCE_3 - p.EXT_SOURCE_3 as ext3_shift,
               d.AMT_CREDIT = p.AMT_CREDIT and d.EXT_SOURCE_2 is not distinct from p.EXT_SOURCE_2
                   and d.DAYS_BIRTH = p.DAYS_BIRTH as others_equal
        from {_csv(month_dir(drifted, last) / 'application_test.csv')} d
        join {_csv(month_dir(plain, last) / 'application_test.csv')} p using (SK_ID_CURR)
        where SK_ID_CURR > (select max(sk_id_curr) from {_csv(drifted / TRUTH_FILE)})
    """).df()
    assert len(rows) > 50
    assert rows["income_ratio"].between(0.69, 0.71).all()
    shift = rows["ext3_shift"].dropna()
    assert abs(shift.median() + 0.15) < 0.02  # grid snapping and clipping at the bounds
    assert rows["others_equal"].all()
    # the planted mechanism reacts: drifted arrivals default more often
    rates = [con.sql(f"select avg(true_probability) from {_csv(month_dir(f, last) / TRUTH_FILE)}"
                     f" where sk_id_curr > (select max(sk_id_curr) from "
                     f"{_csv(f / TRUTH_FILE)})").fetchall()[0][0] for f in (drifted, plain)]
    assert rates[0] > rates[1] * 1.2


@pytest.mark.parametrize("spec, message", [
    ("income=-10%", "is not KEY=NUMBER"),
    ("salary=-0.1", "unknown key 'salary'"),
    ("income=-1.5", "must be above -1"),
    ("cash_share=+2", "between -1 and 1"),
    ("income=-0.1,income=-0.2", "given twice"),
])
def test_bad_drift_spec_is_one_line_exit_2_and_writes_nothing(spec: str, message: str,
                                                              tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=message):
        parse_drift(spec)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "flows.cli", "sample", "--clients", "50",
                           "--out", str(out), "--months", "2", "--drift", spec],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert not out.exists()
