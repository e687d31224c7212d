"""`validate_raw` and `pad validate`: every malformed input gives its one-line message; real-data
quirks are accepted and reported."""
from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flows.cli import main
from warehouse.config import PadPaths
from warehouse.errors import BadInput
from warehouse.raw.schema import TRUTH_FILE, kaggle_files, tables
from warehouse.raw.validate import DAYS_SENTINEL, validate_raw

if TYPE_CHECKING:
    from tests.raw.conftest import CsvFiles

ZipMaker = Callable[..., Path]


def bad_input(raw: Path, work_dir: Path) -> str:
    with pytest.raises(BadInput) as caught:
        validate_raw(raw, work_dir)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- valid inputs -------------------------------------------------------------------------------


def test_valid_portfolio_reports_rows_and_ignores_other_files(raw_dir: Path, work_dir: Path,
                                                              files: CsvFiles) -> None:
    (raw_dir / "sample_submission.csv").write_text("SK_ID_CURR,TARGET\n100001,0.5\n")
    (raw_dir / "HomeCredit_columns_description.csv").write_bytes(b"Table,Row\n\x93cp1252\x94,x\n")
    report = validate_raw(raw_dir, work_dir)
    for table in tables().values():
        assert report.rows[table.name] == files.rows(table.file)
    assert TRUTH_FILE in report.ignored_files
    assert "sample_submission.csv" in report.ignored_files
    assert "HomeCredit_columns_description.csv" in report.ignored_files
    assert report.warnings == []
    text = report.render()
    assert "bureau_balance.csv" in text and "orphans" in text and "sentinels" in text
    assert list(work_dir.iterdir()) == []  # the scratch database is gone


def test_lf_line_endings_accepted(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    for name in kaggle_files():
        header, rows = files.read(name)
        files.write(name, header, rows, newline="\n")
    assert files.newline("bureau.csv") == "\n"
    report = validate_raw(raw_dir, work_dir)
    assert report.rows["bureau"] == files.rows("bureau.csv")


def test_utf8_bom_accepted(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    path = files.path("application_train.csv")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = validate_raw(raw_dir, work_dir)
    assert report.rows["application_train"] == files.rows("application_train.csv")


def test_header_case_and_order_do_not_matter(raw_dir: Path, work_dir: Path,
                                             files: CsvFiles) -> None:
    header, rows = files.read("bureau.csv")
    files.write("bureau.csv", [h.lower() for h in header], rows)
    header, rows = files.read("previous_application.csv")
    files.write("previous_application.csv", [h.title() for h in reversed(header)],
                [list(reversed(r)) for r in rows])
    report = validate_raw(raw_dir, work_dir)
    assert report.rows["bureau"] == files.rows("bureau.csv")
    assert any("previous_application.csv: columns in a different order" in w
               for w in report.warnings)


def test_extra_column_is_warned_not_fatal(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    header, rows = files.read("bureau.csv")
    files.write("bureau.csv", [*header, "MY_NOTE"], [[*r, "x"] for r in rows])
    report = validate_raw(raw_dir, work_dir)
    assert "bureau.csv: unknown column(s) not loaded: MY_NOTE" in report.warnings
    assert "warning: bureau.csv: unknown column(s) not loaded: MY_NOTE" in report.render()


def test_zip_input_works(zip_path: Path, work_dir: Path, files: CsvFiles) -> None:
    report = validate_raw(zip_path, work_dir)
    assert report.rows["installments_payments"] == files.rows("installments_payments.csv")
    assert list(work_dir.iterdir()) == []  # extraction folder removed


def test_folder_with_only_the_kaggle_zip_reads_the_zip(zip_path: Path, tmp_path: Path,
                                                      work_dir: Path) -> None:
    folder = tmp_path / "download"
    folder.mkdir()
    zip_path.rename(folder / zip_path.name)
    (folder / TRUTH_FILE).write_text("sk_id_curr,true_probability,outcome\n")
    report = validate_raw(folder, work_dir)
    assert report.source == str(folder / zip_path.name)
    assert report.rows["bureau"] > 0


def test_zip_with_folder_and_extra_members_works(raw_dir: Path, tmp_path: Path,
                                                 work_dir: Path) -> None:
    archive = tmp_path / "nested.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in [*kaggle_files(), TRUTH_FILE]:
            zf.write(raw_dir / name, arcname=f"home-credit/{name}")
        zf.writestr("__MACOSX/home-credit/._bureau.csv", b"\x00\x05junk")
    report = validate_raw(archive, work_dir)
    assert report.ignored_files == [TRUTH_FILE]


# --- accepted quirks, reported ------------------------------------------------------------------


def test_orphans_are_counted_not_rejected(raw_dir: Path, work_dir: Path,
                                          files: CsvFiles) -> None:
    before = {o.relation: o.rows for o in validate_raw(raw_dir, work_dir).orphans}
    files.set_value("bureau.csv", 4, "SK_ID_CURR", "999999999")
    after = {o.relation: o for o in validate_raw(raw_dir, work_dir).orphans}
    relation = "bureau.SK_ID_CURR -> application_{train|test}"
    assert after[relation].rows == before[relation] + 1
    assert after[relation].keys >= 1
    assert set(after) == {
        "bureau.SK_ID_CURR -> application_{train|test}",
        "bureau_balance.SK_ID_BUREAU -> bureau",
        "previous_application.SK_ID_CURR -> application_{train|test}",
        "pos_cash_balance.SK_ID_PREV -> previous_application",
        "pos_cash_balance.SK_ID_CURR -> application_{train|test}",
        "credit_card_balance.SK_ID_PREV -> previous_application",
        "credit_card_balance.SK_ID_CURR -> application_{train|test}",
        "installments_payments.SK_ID_PREV -> previous_application",
        "installments_payments.SK_ID_CURR -> application_{train|test}",
    }


def test_unknown_level_and_sentinel_are_reported(raw_dir: Path, work_dir: Path,
                                                 files: CsvFiles) -> None:
    files.set_value("application_test.csv", 3, "CODE_GENDER", "Q")
    files.set_value("application_test.csv", 4, "DAYS_EMPLOYED", str(DAYS_SENTINEL))
    report = validate_raw(raw_dir, work_dir)
    unknown = [lv for lv in report.rare_levels
               if (lv.table, lv.column, lv.level) == ("application_test", "CODE_GENDER", "Q")]
    assert unknown and unknown[0].rows == 1 and not unknown[0].known
    sentinel = {(s.table, s.column): s.rows for s in report.sentinels}
    assert sentinel[("application_test", "DAYS_EMPLOYED")] >= 1
    assert "application_test.CODE_GENDER = 'Q': 1 rows (unknown)" in report.render()


# --- missing things -----------------------------------------------------------------------------


def test_missing_path(tmp_path: Path, work_dir: Path) -> None:
    missing = tmp_path / "nowhere"
    assert bad_input(missing, work_dir) == f"{missing}: no such file or folder"


def test_missing_file(raw_dir: Path, work_dir: Path) -> None:
    (raw_dir / "bureau.csv").unlink()
    (raw_dir / "POS_CASH_balance.csv").unlink()
    assert bad_input(raw_dir, work_dir) == (
        f"{raw_dir}: missing Kaggle file(s): bureau.csv, POS_CASH_balance.csv"
    )


def test_missing_column(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    header, rows = files.read("bureau.csv")
    drop = header.index("AMT_CREDIT_SUM")
    files.write("bureau.csv", [h for i, h in enumerate(header) if i != drop],
                [[v for i, v in enumerate(r) if i != drop] for r in rows])
    assert bad_input(raw_dir, work_dir) == "bureau.csv: line 1: missing column AMT_CREDIT_SUM"


def test_wrong_delimiter(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    header, rows = files.read("bureau.csv")
    lines = [";".join(r) for r in [header, *rows]]
    files.path("bureau.csv").write_text("\r\n".join(lines) + "\r\n")
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 1: missing columns SK_ID_CURR, SK_ID_BUREAU, CREDIT_ACTIVE, "
        "CREDIT_CURRENCY, DAYS_CREDIT and 12 more (the delimiter must be a comma)"
    )


def test_duplicated_header_column(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    header, rows = files.read("bureau_balance.csv")
    files.write("bureau_balance.csv", [*header, "status"], [[*r, "C"] for r in rows])
    assert bad_input(raw_dir, work_dir) == (
        "bureau_balance.csv: line 1: column STATUS appears more than once"
    )


def test_empty_file(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.path("credit_card_balance.csv").write_bytes(b"")
    assert bad_input(raw_dir, work_dir) == "credit_card_balance.csv: empty file (0 bytes)"


def test_header_only_file(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.write_lines("bureau.csv", files.lines("bureau.csv")[:1])
    assert bad_input(raw_dir, work_dir) == "bureau.csv: no data rows (header only)"


# --- malformed rows -----------------------------------------------------------------------------


def test_non_numeric_value_names_file_line_column_value(raw_dir: Path, work_dir: Path,
                                                        files: CsvFiles) -> None:
    files.set_value("bureau.csv", 17, "AMT_CREDIT_SUM", "abc")
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 17, column AMT_CREDIT_SUM: 'abc' is not a number"
    )


def test_bad_values_in_two_files_report_the_first_file(
        raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    # the error is the one a read in schema order meets first (bureau before installments)
    files.set_value("installments_payments.csv", 5, "AMT_PAYMENT", "n/a")
    files.set_value("bureau.csv", 17, "AMT_CREDIT_SUM", "abc")
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 17, column AMT_CREDIT_SUM: 'abc' is not a number"
    )
    assert list(work_dir.iterdir()) == []  # nothing half written


def test_several_bad_values_report_the_first_and_count_the_rest(raw_dir: Path, work_dir: Path,
                                                                files: CsvFiles) -> None:
    files.set_value("installments_payments.csv", 40, "AMT_PAYMENT", "n/a")
    files.set_value("installments_payments.csv", 9, "DAYS_INSTALMENT", "12 days")
    assert bad_input(raw_dir, work_dir) == (
        "installments_payments.csv: line 9, column DAYS_INSTALMENT: '12 days' is not a number"
        " (1 more bad rows in this file)"
    )


def test_fractional_value_in_integer_column(raw_dir: Path, work_dir: Path,
                                            files: CsvFiles) -> None:
    files.set_value("bureau.csv", 6, "DAYS_CREDIT", "-497.5")
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 6, column DAYS_CREDIT: '-497.5' is not an integer"
    )


def test_non_finite_number(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.set_value("application_train.csv", 8, "AMT_INCOME_TOTAL", "inf")
    assert bad_input(raw_dir, work_dir) == (
        "application_train.csv: line 8, column AMT_INCOME_TOTAL: 'inf' is not a finite number"
    )


@pytest.mark.parametrize(("value", "line"), [("nan", 30), ("-inf", 2), ("NaN", 41)])
def test_non_finite_float_in_a_long_file(raw_dir: Path, work_dir: Path, files: CsvFiles,
                                         value: str, line: int) -> None:
    # Good input skips the per-value float check: the loaded table's min/max statistics
    # must still see NaN and -inf, on any line.
    files.set_value("installments_payments.csv", line, "AMT_PAYMENT", value)
    assert bad_input(raw_dir, work_dir) == (
        f"installments_payments.csv: line {line}, column AMT_PAYMENT: {value!r} "
        "is not a finite number"
    )


def test_non_finite_float_in_an_otherwise_empty_column(raw_dir: Path, work_dir: Path,
                                                       files: CsvFiles) -> None:
    header, rows = files.read("bureau.csv")
    index = header.index("AMT_ANNUITY")
    for row in rows:
        row[index] = ""
    rows[4][index] = "nan"
    files.write("bureau.csv", header, rows)
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 6, column AMT_ANNUITY: 'nan' is not a finite number"
    )


def test_truncated_last_line(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    data = files.path("bureau.csv").read_bytes().rstrip(b"\r\n")
    last_line = data.count(b"\n") + 1
    files.path("bureau.csv").write_bytes(data[: data.rindex(b"\n") + 20])
    assert bad_input(raw_dir, work_dir).startswith(
        f"bureau.csv: line {last_line}: expected 17 fields, found "
    )
    assert bad_input(raw_dir, work_dir).endswith("(truncated or malformed row)")


def test_too_many_fields(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    lines = files.lines("POS_CASH_balance.csv")
    ending = b"\r\n" if lines[11].endswith(b"\r\n") else b"\n"
    lines[11] = lines[11].rstrip(b"\r\n") + b",1" + ending
    files.write_lines("POS_CASH_balance.csv", lines)
    assert bad_input(raw_dir, work_dir) == "POS_CASH_balance.csv: line 12: expected 8 fields, found 9"


@pytest.mark.parametrize("column", ["NAME_CONTRACT_TYPE", "AMT_CREDIT"])
def test_invalid_utf8(raw_dir: Path, work_dir: Path, files: CsvFiles, column: str) -> None:
    # DuckDB flags bad bytes in a text column as an encoding error but in a numeric column as a
    # failed cast; both must read as an encoding problem.
    files.set_value("previous_application.csv", 23, column, "PLACEHOLDER")
    lines = files.lines("previous_application.csv")
    lines[22] = lines[22].replace(b"PLACEHOLDER", b"Cash \xff\xfe loans")
    files.write_lines("previous_application.csv", lines)
    assert bad_input(raw_dir, work_dir) == (
        "previous_application.csv: line 23: invalid UTF-8 byte sequence"
        " (the file must be UTF-8 encoded)"
    )


def test_invalid_utf8_in_header(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    lines = files.lines("bureau.csv")
    lines[0] = lines[0].replace(b"SK_ID_CURR", b"SK_ID_CURR\xe9")
    files.write_lines("bureau.csv", lines)
    assert bad_input(raw_dir, work_dir) == "bureau.csv: line 1: invalid UTF-8 in the header"


def test_unterminated_quote(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.set_value("bureau.csv", 5, "CREDIT_TYPE", "PLACEHOLDER")
    lines = files.lines("bureau.csv")
    lines[4] = lines[4].replace(b"PLACEHOLDER", b'"Consumer credit')
    files.write_lines("bureau.csv", lines)
    assert bad_input(raw_dir, work_dir) == "bureau.csv: line 5: unterminated or misplaced quote"


def test_line_numbers_are_physical_after_a_multiline_field(raw_dir: Path, work_dir: Path,
                                                           files: CsvFiles) -> None:
    # DuckDB counts records; a quoted field spanning two lines must still shift the line number.
    files.set_value("bureau.csv", 3, "CREDIT_TYPE", "Consumer\ncredit")
    files.set_value("bureau.csv", 9, "AMT_CREDIT_SUM", "abc")  # record 8 = physical line 10
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 10, column AMT_CREDIT_SUM: 'abc' is not a number"
    )


def test_line_numbers_count_blank_lines(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.set_value("bureau.csv", 9, "AMT_CREDIT_SUM", "abc")
    lines = files.lines("bureau.csv")
    files.write_lines("bureau.csv", [*lines[:3], b"\r\n", b"\r\n", *lines[3:]])
    assert bad_input(raw_dir, work_dir) == (
        "bureau.csv: line 11, column AMT_CREDIT_SUM: 'abc' is not a number"
    )


def test_missing_identifier(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    files.set_value("installments_payments.csv", 7, "SK_ID_CURR", "")
    assert bad_input(raw_dir, work_dir) == (
        "installments_payments.csv: line 7, column SK_ID_CURR: missing identifier"
    )


# --- duplicate keys -----------------------------------------------------------------------------


def test_duplicate_bureau_key(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    key = files.value("bureau.csv", 3, "SK_ID_BUREAU")
    files.set_value("bureau.csv", 12, "SK_ID_BUREAU", key)
    assert bad_input(raw_dir, work_dir) == (
        f"bureau.csv: line 12: duplicate SK_ID_BUREAU {key} (first seen on line 3)"
    )


def test_duplicate_bureau_balance_key(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    bureau = files.value("bureau_balance.csv", 2, "SK_ID_BUREAU")
    month = files.value("bureau_balance.csv", 2, "MONTHS_BALANCE")
    files.set_value("bureau_balance.csv", 30, "SK_ID_BUREAU", bureau)
    files.set_value("bureau_balance.csv", 30, "MONTHS_BALANCE", month)
    assert bad_input(raw_dir, work_dir) == (
        f"bureau_balance.csv: line 30: duplicate key SK_ID_BUREAU={bureau}, "
        f"MONTHS_BALANCE={month} (first seen on line 2)"
    )


@pytest.mark.parametrize("month", ["-200", "5"])
def test_bureau_balance_months_outside_the_bit_mask_are_checked_exactly(
        raw_dir: Path, work_dir: Path, files: CsvFiles, month: str) -> None:
    # keys.months_key_is_unique holds months -126..0 as bits; others take the exact GROUP BY
    bureau = files.value("bureau_balance.csv", 2, "SK_ID_BUREAU")
    files.set_value("bureau_balance.csv", 30, "SK_ID_BUREAU", bureau)
    files.set_value("bureau_balance.csv", 30, "MONTHS_BALANCE", month)
    report = validate_raw(raw_dir, work_dir)  # a month of its own: unique, valid
    assert report.rows["bureau_balance"] == files.rows("bureau_balance.csv")
    files.set_value("bureau_balance.csv", 31, "SK_ID_BUREAU", bureau)
    files.set_value("bureau_balance.csv", 31, "MONTHS_BALANCE", month)
    assert bad_input(raw_dir, work_dir) == (
        f"bureau_balance.csv: line 31: duplicate key SK_ID_BUREAU={bureau}, "
        f"MONTHS_BALANCE={month} (first seen on line 30)"
    )


def test_duplicate_previous_key(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    key = files.value("previous_application.csv", 20, "SK_ID_PREV")
    files.set_value("previous_application.csv", 21, "SK_ID_PREV", key)
    assert bad_input(raw_dir, work_dir) == (
        f"previous_application.csv: line 21: duplicate SK_ID_PREV {key} (first seen on line 20)"
    )


def test_duplicate_client_within_train(raw_dir: Path, work_dir: Path, files: CsvFiles) -> None:
    key = files.value("application_train.csv", 2, "SK_ID_CURR")
    files.set_value("application_train.csv", 5, "SK_ID_CURR", key)
    assert bad_input(raw_dir, work_dir) == (
        f"application_train.csv: line 5: duplicate SK_ID_CURR {key} (first seen on line 2)"
    )


def test_duplicate_client_across_train_and_test(raw_dir: Path, work_dir: Path,
                                                files: CsvFiles) -> None:
    key = files.value("application_train.csv", 4, "SK_ID_CURR")
    files.set_value("application_test.csv", 3, "SK_ID_CURR", key)
    assert bad_input(raw_dir, work_dir) == (
        f"application_test.csv: line 3: duplicate SK_ID_CURR {key} "
        "(also in application_train.csv line 4)"
    )


# --- zip problems -------------------------------------------------------------------------------


def test_corrupt_zip(zip_path: Path, work_dir: Path) -> None:
    data = zip_path.read_bytes()
    zip_path.write_bytes(data[: len(data) // 2])  # cut: the central directory is gone
    assert bad_input(zip_path, work_dir) == (
        f"{zip_path}: not a folder and not a valid zip archive"
    )


def test_zip_with_corrupt_member(raw_dir: Path, tmp_path: Path, work_dir: Path,
                                 make_zip: ZipMaker) -> None:
    archive = make_zip(raw_dir, tmp_path / "damaged.zip")
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("bureau.csv")
    data = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for offset in range(start + 100, start + 140):  # flip bytes inside the deflate stream
        data[offset] ^= 0xFF
    archive.write_bytes(bytes(data))
    message = bad_input(archive, work_dir)
    assert message.startswith(f"{archive}: bureau.csv is corrupt inside the zip (")
    assert list(work_dir.iterdir()) == []


def test_zip_lacking_files(raw_dir: Path, tmp_path: Path, work_dir: Path,
                           make_zip: ZipMaker) -> None:
    names = [n for n in kaggle_files() if n != "installments_payments.csv"]
    archive = make_zip(raw_dir, tmp_path / "partial.zip", names)
    assert bad_input(archive, work_dir) == (
        f"{archive}: missing Kaggle file(s): installments_payments.csv"
    )


def test_plain_file_is_not_a_raw_input(raw_dir: Path, work_dir: Path) -> None:
    path = raw_dir / "bureau.csv"
    assert bad_input(path, work_dir) == f"{path}: not a folder and not a valid zip archive"


# --- command line -------------------------------------------------------------------------------


def test_cli_bad_input_exits_2_with_one_line(raw_dir: Path, files: CsvFiles, pad_home: PadPaths,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    files.set_value("bureau.csv", 17, "AMT_CREDIT_SUM", "abc")
    assert main(["validate", "--raw", str(raw_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "pad validate: bureau.csv: line 17, column AMT_CREDIT_SUM: 'abc' is not a number\n"
    )


def test_cli_valid_input_prints_report(raw_dir: Path, pad_home: PadPaths,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--raw", str(raw_dir)]) == 0
    out = capsys.readouterr().out
    assert re.match(rf"raw input {re.escape(str(raw_dir))}: valid, [\d,]+ rows", out)
    assert not any(pad_home.build.glob("*.duckdb"))


def test_cli_bad_thread_setting_exits_2_with_one_line(raw_dir: Path, pad_home: PadPaths,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PAD_THREADS", "two")
    assert main(["validate", "--raw", str(raw_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "pad validate: environment variable PAD_THREADS='two' is not an integer\n"
    assert not any(pad_home.build.glob("*.duckdb"))


@pytest.mark.parametrize("setting", ["PAD_MARTS_DBT_THREADS", "PAD_ML_FOLDS",
                                     "PAD_MONITOR_FEATURES"])
def test_refresh_with_a_bad_setting_stops_before_loading(raw_dir: Path, pad_home: PadPaths,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str],
                                                         setting: str) -> None:
    # read only after the load and the marts build (or the training) before
    monkeypatch.setenv(setting, "two")
    assert main(["refresh", "--raw", str(raw_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"pad refresh: environment variable {setting}='two' is not an integer\n"
    assert not any(pad_home.build.glob("refresh-*"))  # nothing loaded
    [record] = [json.loads(path.read_text()) for path in pad_home.runs.glob("*.json")]
    assert record["status"] == "failed" and setting in record["message"]
