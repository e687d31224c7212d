"""The synthetic portfolio: exact Kaggle format, the real files' quirks, keys, determinism, truth."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from warehouse.raw.generate import generate_portfolio
from warehouse.raw.schema import TRUTH_FILE, ZIP_NAME, tables

CLIENTS = 3000
FLOAT = re.compile(r"^-?\d+\.\d+(e-?\d+)?$|^-?\d(\.\d+)?e[-+]?\d+$")
INT = re.compile(r"^-?\d+$")


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("portfolio")
    generate_portfolio(clients=CLIENTS, out_dir=out, seed=7, write_zip=True)
    return out


@pytest.fixture(scope="module")
def con(portfolio: Path) -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    for t in tables().values():
        db.execute(f"create view {t.name} as select * from read_csv('{portfolio / t.file}', "
                   "header=true, all_varchar=false)")
    return db


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_files_have_exact_names_headers_and_crlf(portfolio: Path) -> None:
    for t in tables().values():
        raw = (portfolio / t.file).read_bytes()
        header, _, rest = raw.partition(b"\r\n")
        assert header.decode() == ",".join(t.column_names), t.file
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), t.file
        assert len(rest) > 0, t.file


def test_values_are_written_like_the_real_files(portfolio: Path) -> None:
    for t in tables().values():
        with (portfolio / t.file).open(newline="") as f:
            reader = csv.reader(f)
            next(reader)
            rows = [row for _, row in zip(range(3000), reader)]
        for i, col in enumerate(t.columns):
            values = [r[i] for r in rows if r[i] != ""]
            if col.dtype == "float":
                bad = [v for v in values if not FLOAT.match(v)]
                assert not bad, f"{t.file}.{col.name}: {bad[:3]}"
                assert "-0.0" not in values, f"{t.file}.{col.name} writes -0.0"
            elif col.dtype == "int":
                bad = [v for v in values if not INT.match(v)]
                assert not bad, f"{t.file}.{col.name}: {bad[:3]}"
    text = (portfolio / "application_train.csv").read_text()
    assert ',"Spouse, partner",' in text  # quoted because of the comma
    assert '"Unaccompanied"' not in text  # and only then
    first = text.splitlines()[1].split(",")
    assert re.match(r"^\d+\.0$", first[7])  # AMT_INCOME_TOTAL like 135000.0


def test_row_counts_scale_like_the_real_files(portfolio: Path, con) -> None:
    scale = CLIENTS / 356255
    for t in tables().values():
        rows = scalar(con, f"select count(*) from {t.name}")
        assert 0.8 * t.full_rows * scale < rows < 1.2 * t.full_rows * scale, t.file


def test_pending_clients_are_interleaved_in_one_id_range(con) -> None:
    ids = con.execute("select sk_id_curr as id from application_train union all "
                      "select sk_id_curr from application_test order by 1").fetchnumpy()["id"]
    assert list(ids) == list(range(100001, 100001 + CLIENTS))
    pending = scalar(con, "select count(*) from application_test") / CLIENTS
    assert 0.115 < pending < 0.16
    test_ids = con.execute("select sk_id_curr as id from application_test").fetchnumpy()["id"]
    assert test_ids.min() < 100001 + CLIENTS * 0.1 and test_ids.max() > 100001 + CLIENTS * 0.9


def test_primary_keys_are_unique(con) -> None:
    for tbl, key in [("bureau", "sk_id_bureau"), ("previous_application", "sk_id_prev"),
                     ("bureau_balance", "sk_id_bureau, months_balance")]:
        dupes = scalar(con, f"select count(*) from (select {key} from {tbl} group by all "
                            "having count(*) > 1)")
        assert dupes == 0, tbl


def test_children_point_at_clients_and_orphans_exist_at_real_rates(con) -> None:
    clients = "(select sk_id_curr from application_train union all " \
              "select sk_id_curr from application_test)"
    for tbl in ["bureau", "previous_application", "pos_cash_balance", "credit_card_balance",
                "installments_payments"]:
        assert scalar(con, f"select count(*) from {tbl} where sk_id_curr not in {clients}") == 0
    bb_orphans = scalar(con, "select count(distinct sk_id_bureau) from bureau_balance where "
                             "sk_id_bureau not in (select sk_id_bureau from bureau)")
    bb_loans = scalar(con, "select count(distinct sk_id_bureau) from bureau_balance")
    assert 0.02 < bb_orphans / bb_loans < 0.09
    for tbl, low, high in [("pos_cash_balance", 0.015, 0.08), ("installments_payments", 0.015,
                                                                0.08),
                           ("credit_card_balance", 0.03, 0.2)]:
        orphans = scalar(con, f"select count(distinct sk_id_prev) from {tbl} where sk_id_prev "
                              "not in (select sk_id_prev from previous_application)")
        prevs = scalar(con, f"select count(distinct sk_id_prev) from {tbl}")
        assert low < orphans / prevs < high, tbl
    with_history = scalar(con, "select count(*) from bureau where sk_id_bureau in "
                               "(select sk_id_bureau from bureau_balance)")
    assert 0.38 < with_history / scalar(con, "select count(*) from bureau") < 0.52


def test_employment_sentinel_goes_with_its_companions(con) -> None:
    mismatches = scalar(con, """
        select count(*) from application_train
        where (days_employed = 365243) <> (organization_type = 'XNA')
           or (days_employed = 365243) <> (flag_emp_phone = 0)
           or (days_employed = 365243) <> (name_income_type in ('Pensioner', 'Unemployed'))
           or (days_employed = 365243 and occupation_type is not null)""")
    assert mismatches == 0
    share = scalar(con, "select avg((days_employed = 365243)::int) from application_train")
    assert 0.14 < share < 0.22


def test_joint_missing_patterns(con) -> None:
    prev_block = ["days_first_drawing", "days_first_due", "days_last_due_1st_version",
                  "days_last_due", "days_termination", "nflag_insured_on_approval"]
    nulls = " + ".join(f"({c} is null)::int" for c in prev_block)
    assert scalar(con, f"select count(*) from previous_application where ({nulls}) not in (0, 6)") == 0
    assert 0.3 < scalar(con, "select avg((days_first_due is null)::int) "
                             "from previous_application") < 0.5
    assert scalar(con, "select count(*) from previous_application "
                       "where days_first_drawing = 365243") > 0
    card_block = ["amt_drawings_atm_current", "amt_drawings_other_current",
                  "amt_drawings_pos_current", "cnt_drawings_atm_current",
                  "cnt_drawings_other_current", "cnt_drawings_pos_current"]
    nulls = " + ".join(f"({c} is null)::int" for c in card_block)
    assert scalar(con, f"select count(*) from credit_card_balance where ({nulls}) not in (0, 6)") == 0
    for measure in ["apartments", "commonarea", "floorsmax"]:
        assert scalar(con, f"""select count(*) from application_train
            where ({measure}_avg is null) <> ({measure}_mode is null)
               or ({measure}_avg is null) <> ({measure}_medi is null)""") == 0
    assert scalar(con, "select count(*) from installments_payments where "
                       "(days_entry_payment is null) <> (amt_payment is null)") == 0


def test_missing_rates_are_near_the_real_ones(con) -> None:
    rates = con.execute("""select avg((ext_source_1 is null)::int), avg((ext_source_3 is null)::int),
        avg((own_car_age is null)::int), avg((occupation_type is null)::int),
        avg((amt_req_credit_bureau_year is null)::int) from application_train""").fetchone()
    for got, real in zip(rates, [0.5638, 0.1983, 0.6599, 0.3135, 0.135]):
        assert abs(got - real) < 0.04, (got, real)


def test_internal_consistency(con) -> None:
    assert scalar(con, "select count(*) from bureau where credit_active = 'Closed' "
                       "and days_enddate_fact is null") == 0
    assert scalar(con, "select min(months_balance) >= -96 and max(months_balance) = 0 "
                       "from bureau_balance")
    for tbl in ["pos_cash_balance", "credit_card_balance"]:
        assert scalar(con, f"select min(months_balance) >= -96 and max(months_balance) <= -1 "
                           f"from {tbl}")
    # bureau_balance is grouped by loan with months descending from 0
    assert scalar(con, """select count(*) from (select sk_id_bureau, months_balance,
        lag(months_balance) over (partition by sk_id_bureau order by rowid) as prev
        from (select *, row_number() over () as rowid from bureau_balance))
        where prev is not null and months_balance <> prev - 1""") == 0
    median_gap = scalar(con, "select median(abs(days_entry_payment - days_instalment)) "
                             "from installments_payments")
    assert median_gap < 15
    repeats = scalar(con, "select count(*) from (select sk_id_prev, num_instalment_number, "
                          "num_instalment_version from installments_payments group by all "
                          "having count(*) > 1)")
    assert repeats > 0
    assert scalar(con, "select count(*) from installments_payments "
                       "where num_instalment_version = 0") > 0
    assert scalar(con, "select count(*) from bureau where amt_credit_sum_debt < 0") > 0


def test_rare_levels_and_outliers_appear(con) -> None:
    assert scalar(con, "select max(amt_income_total) from application_train") >= 1e8 or \
        scalar(con, "select max(amt_income_total) from application_test") >= 1e8
    assert scalar(con, "select count(distinct organization_type) from application_train") > 40
    assert scalar(con, "select count(*) from bureau where credit_currency <> 'currency 1'") >= 0


def test_truth_matches_target_and_is_calibrated(portfolio: Path, con) -> None:
    con.execute(f"create or replace view truth as select * from read_csv('{portfolio / TRUTH_FILE}')")
    header = (portfolio / TRUTH_FILE).read_text().splitlines()[0]
    assert header == "sk_id_curr,true_probability,outcome"
    assert scalar(con, "select count(*) from truth") == CLIENTS
    assert scalar(con, "select count(*) from application_train a join truth t using (sk_id_curr) "
                       "where a.target <> t.outcome") == 0
    rate = scalar(con, "select avg(target) from application_train")
    assert 0.06 < rate < 0.10
    assert 0.07 < scalar(con, "select avg(true_probability) from truth") < 0.09
    assert scalar(con, "select count(*) from truth where outcome is null") == 0


def test_zip_holds_exactly_the_eight_csvs(portfolio: Path) -> None:
    with zipfile.ZipFile(portfolio / ZIP_NAME) as zf:
        assert sorted(zf.namelist()) == sorted(t.file for t in tables().values())
        head = zf.read("bureau.csv")[:200]
    assert head == (portfolio / "bureau.csv").read_bytes()[:200]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*.csv"))}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    for name, seed in [("a", 5), ("b", 5), ("c", 6)]:
        generate_portfolio(clients=400, out_dir=tmp_path / name, seed=seed)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["bureau.csv"] != _digest(tmp_path / "c")["bureau.csv"]
    assert not list((tmp_path / "a").glob(".pad-sample-*"))  # the private work folder is gone


def test_cli_sample_and_its_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", "--clients", "50", "--out", str(tmp_path / "s"), "--seed", "1"]) == 0
    assert (tmp_path / "s" / "application_train.csv").exists()
    capsys.readouterr()
    assert main(["sample", "--clients", "0", "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["pad sample: --clients must be at least 10, got 0"]
    assert not (tmp_path / "t" / "application_train.csv").exists()


def test_truth_reader_line_format(portfolio: Path) -> None:
    rows = list(csv.reader(io.StringIO((portfolio / TRUTH_FILE).read_text())))
    assert all(len(r) == 3 for r in rows)
