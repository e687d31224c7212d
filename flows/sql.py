"""`pad sql`: the analysts' SQL entry point on the published warehouse, always read-only.

Everything runs in the `duckdb` Python package, the engine that wrote the warehouse. With a
query, `run_query` prints a table, or CSV with `as_csv` (every row, for a spreadsheet or a
pipe). Without one, `open_shell` reads statements interactively (line editing, `.tables`,
`.describe`, `.csv`, `.help`), or runs standard input as a script when it is not a terminal.

Bad input (no warehouse published, SQL that does not parse or bind, a write) raises `BadInput`
with one line: the command line turns it into exit code 2.
"""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import TextIO

import duckdb

from warehouse.errors import BadInput

CSV_BATCH_ROWS = 10_000


def require_published(warehouse: Path) -> Path:
    """The published warehouse file, or BadInput when no refresh has published one."""
    if not warehouse.is_file():
        raise BadInput(f"no warehouse published at {warehouse}: run `pad refresh` first "
                       f"(or set PAD_HOME)")
    return warehouse


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    require_published(warehouse)
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise BadInput(f"cannot open {warehouse}: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    """DuckDB's message without its caret diagram: the error and any 'Did you mean' hint."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = []
    for line in lines:
        if line.startswith("LINE "):
            break
        if line:
            kept.append(line)
    return " ".join(kept) or type(exc).__name__


def run_query(warehouse: Path, query: str, as_csv: bool = False) -> None:
    """Run `query` (one or more statements) read-only; print the last one's rows on stdout."""
    con = _connect(warehouse)
    try:
        if as_csv:
            write_csv(con.execute(query), sys.stdout)
            return
        relation = con.sql(query)
        if relation is not None:  # None: a statement without rows (e.g. SET)
            # the box rendering of the DuckDB shell; long results are elided in the middle
            relation.show(max_width=_terminal_width())
    except duckdb.Error as exc:
        raise BadInput(f"SQL error: {one_line(exc)}") from None
    finally:
        con.close()


def write_csv(result: duckdb.DuckDBPyConnection, out: TextIO) -> None:
    """Header and every row of an executed statement, streamed in batches (a whole table
    does not sit in memory)."""
    if result.description is None:  # a statement without rows
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(column[0] for column in result.description)
    while batch := result.fetchmany(CSV_BATCH_ROWS):
        writer.writerows(batch)


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 160


SHELL_HELP = """Statements end with ';' (several lines are fine). Commands:
  .tables          every table and view, by schema
  .describe NAME   the columns of a table, e.g. .describe serving.client_scores
  .csv             switch between table and CSV output
  .help            this text
  .quit            leave (or Ctrl-D); Ctrl-C cancels the statement being typed or run"""


class Shell:
    """A small interactive SQL shell on one read-only connection (`pad sql` without a query).

    DuckDB's own command-line shell is not used: its newest PyPI wheel (`duckdb-cli` 1.5.6)
    cannot read the storage format DuckDB 2 writes ("version number 69"), and the shell must
    run the same engine as the warehouse's writer.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, interactive: bool) -> None:
        self.con = con
        self.interactive = interactive
        self.as_csv = False
        self.failed = False

    def execute(self, sql: str) -> None:
        try:
            if self.as_csv:
                write_csv(self.con.execute(sql), sys.stdout)
            elif (relation := self.con.sql(sql)) is not None:
                relation.show(max_width=_terminal_width())
        except duckdb.Error as exc:
            print(f"Error: {one_line(exc)}", file=sys.stderr)
            self.failed = True

    def command(self, line: str) -> bool:
        """Run a dot command; False means leave."""
        name, _, argument = line.partition(" ")
        if name in (".quit", ".exit"):
            return False
        if name == ".tables":
            self.execute("select table_schema as schema, string_agg(table_name, ', ' order by "
                         "table_name) as tables from information_schema.tables "
                         "group by all order by all")
        elif name == ".describe" and argument.strip():
            self.execute(f"describe {argument.strip()}")
        elif name == ".csv":
            self.as_csv = not self.as_csv
            print(f"output: {'CSV' if self.as_csv else 'table'}", file=sys.stderr)
        else:
            print(SHELL_HELP, file=sys.stderr)
        return True

    def read(self, prompt: str) -> str:
        if self.interactive:
            return input(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def run(self) -> int:
        """Read statements until .quit or end of input; exit 2 if a statement failed in a
        script (standard input not a terminal), 0 otherwise."""
        pending: list[str] = []
        while True:
            try:
                line = self.read("... " if pending else "pad sql> ")
            except EOFError:
                break
            except KeyboardInterrupt:
                print(file=sys.stderr)
                pending = []
                continue
            if not pending and line.strip().startswith("."):
                if not self.command(line.strip()):
                    break
                continue
            pending.append(line)
            if line.rstrip().endswith(";"):
                try:
                    self.execute("\n".join(pending))
                except KeyboardInterrupt:
                    print("cancelled", file=sys.stderr)
                pending = []
        if pending and "".join(pending).strip():
            self.execute("\n".join(pending))  # a last statement without its ';'
        return 2 if self.failed and not self.interactive else 0


def open_shell(warehouse: Path) -> int:
    """The interactive shell on the published warehouse, read-only (a script when standard
    input is not a terminal); returns the exit code."""
    con = _connect(warehouse)
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401 — line editing and history for input()

        print(f"pad sql: {warehouse} (read-only), DuckDB {duckdb.__version__}. "
              f"End statements with ';'. .help for help, .quit to leave.", file=sys.stderr)
    try:
        return Shell(con, interactive).run()
    finally:
        con.close()
