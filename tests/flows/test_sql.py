"""`pad sql`, the analysts' entry point, run as analysts run it: the `pad` command in a child
process on a published warehouse (the dashboard tests' contract-exact fixture, or a real one
with PAD_TEST_WAREHOUSE) — a query as a table or CSV, the DuckDB shell on standard input, one
line and exit 2 for bad input, and every SQL statement of the README as written."""
from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.dashboard.serving_fixture import build_serving_warehouse

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PAD_HOME whose published warehouse is the test warehouse."""
    root = tmp_path_factory.mktemp("sql-home")
    given = os.environ.get("PAD_TEST_WAREHOUSE")
    if given:
        (root / "warehouse.duckdb").symlink_to(Path(given).resolve())
    else:
        build_serving_warehouse(root / "warehouse.duckdb")
    return root


def pad_sql(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAD_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "flows.cli", "sql", *args], env=env, check=False,
                          input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=120, cwd=REPO)


def expected(home: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_query_prints_a_table(home: Path) -> None:
    done = pad_sql(home, "select population, count(*) as n from serving.clients "
                         "group by population order by population")
    assert done.returncode == 0, done.stderr
    for population, n in expected(home, "select population, count(*) from serving.clients "
                                        "group by population"):
        assert re.search(rf"│\s*{population}\s*│\s*{n}\s*│", done.stdout), done.stdout


def test_csv_has_every_row(home: Path) -> None:
    done = pad_sql(home, "--csv", "select sk_id_curr, score, decision from serving.client_scores "
                                  "order by sk_id_curr")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["sk_id_curr", "score", "decision"]
    truth = expected(home, "select sk_id_curr, score, decision from serving.client_scores "
                           "order by sk_id_curr")
    assert [(int(a), int(b), c) for a, b, c in rows[1:]] == truth


def test_without_a_query_standard_input_runs_as_a_script(home: Path) -> None:
    done = pad_sql(home, stdin=".tables\nselect count(*)\n  as n from serving.client_scores;\n"
                               ".csv\nselect 7 as seven;\n")
    assert done.returncode == 0, done.stderr
    assert "client_scores" in done.stdout
    (count,), = expected(home, "select count(*) from serving.client_scores")
    assert re.search(rf"│\s*{count}\s*│", done.stdout), done.stdout
    assert done.stdout.rstrip().endswith("seven\n7")


def test_a_failing_script_statement_is_one_line_and_exit_2(home: Path) -> None:
    done = pad_sql(home, stdin="create table serving.scratch(a int);\nselect 1 as one;\n")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "read-only" in done.stderr, done.stderr
    assert "one" in done.stdout  # the statements after it still ran
    assert not expected(home, "select * from information_schema.tables "
                              "where table_name = 'scratch'")


def test_the_interactive_shell_in_a_terminal(home: Path) -> None:
    """Through a pseudo-terminal, as an analyst types: prompt, a statement over two lines,
    an error that leaves the shell open, .quit (exit 0: errors only fail a script)."""
    import pexpect

    shell = pexpect.spawn(sys.executable, ["-m", "flows.cli", "sql"], cwd=str(REPO),
                          env={**os.environ, "PAD_HOME": str(home)}, encoding="utf-8",
                          timeout=120, dimensions=(40, 160))
    try:
        shell.expect("read-only")
        shell.expect("pad sql> ")
        shell.sendline("select count(*) as n")
        shell.expect(r"\.\.\. ")
        shell.sendline("from serving.clients;")
        (count,), = expected(home, "select count(*) from serving.clients")
        shell.expect(rf"│\s*{count}\s*│")
        shell.expect("pad sql> ")
        shell.sendline("select nonsense;")
        shell.expect("Error: ")
        shell.expect("pad sql> ")
        shell.sendline(".quit")
        shell.expect(pexpect.EOF)
    finally:
        shell.close()
    assert shell.exitstatus == 0


@pytest.mark.parametrize(("args", "says"), [
    (["selec 1"], "syntax error"),
    (["select * from serving.no_such_table"], "no_such_table"),
    (["--csv", "select 1/'x'"], "SQL error"),
    (["create table serving.scratch(a int)"], "read-only"),
])
def test_bad_sql_is_one_line_and_exit_2(home: Path, args: list[str], says: str) -> None:
    done = pad_sql(home, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("pad sql: "), done.stderr
    assert says in done.stderr


@pytest.mark.parametrize("args", [["select 1"], []])
def test_no_published_warehouse_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    done = pad_sql(tmp_path, *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no warehouse published" in done.stderr
    assert "pad refresh" in done.stderr


def readme_statements() -> list[str]:
    """Every statement of every ```sql block of the README, split by DuckDB's own parser."""
    blocks = re.findall(r"^```sql\n(.*?)^```", (REPO / "README.md").read_text(),
                        flags=re.DOTALL | re.MULTILINE)
    return [statement.query.strip() for block in blocks
            for statement in duckdb.extract_statements(block)]


def test_the_readme_has_sql_examples() -> None:
    assert len(readme_statements()) >= 3


@pytest.mark.parametrize("statement", readme_statements(),
                         ids=lambda s: " ".join(s.split())[:60])
def test_every_readme_sql_example_runs_as_written(home: Path, statement: str) -> None:
    done = pad_sql(home, "--csv", statement)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert len(rows) >= 2, f"no rows: {statement}"
