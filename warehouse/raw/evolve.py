"""`pad sample --months M [--drift SPEC]`: the portfolio as it stands month after month.

`DIR/` holds month 0 (exactly what `pad sample` writes without --months); `DIR/month=01/` …
`DIR/month=MM/` each hold a complete set of the 8 Kaggle files + truth.csv as they would be
exported at the end of that month:

- **new applications arrive**: each month `arrivals` new clients (default: as many as month 0
  had pending) join application_test, with their bureau, previous-application, POS, card and
  instalment rows; their ids follow the last ones used. The drift (warehouse/raw/synth/drift.py)
  is applied to every arrival, so the pending population drifts a little more each month as
  older pending clients leave it;
- **outcomes arrive**: half of the clients pending at the end of the previous month
  (`MATURE_SHARE`) become history: their row moves to application_train with TARGET = their
  true outcome from the planted mechanism (truth.csv, drawn once per client);
- **histories grow**: application_train only grows, and the behaviour tables only gain rows.
  A client's behaviour rows are dated relative to their own application (DAYS_* < 0), as in the
  Kaggle export, so the rows of clients already in the files do not change.

The arrivals' true probabilities use month 0's calibration of the planted mechanism, so a drift
that raises risk (lower incomes, worse external scores) raises the default rate by the amount the
mechanism implies. Everything is deterministic in (clients, seed, months, drift). Each month is
written into a private folder and renamed into place, like month 0.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from warehouse.errors import BadInput
from warehouse.raw.generate import (
    BEHAVIOUR_TABLES,
    GenerationResult,
    generate_portfolio,
    write_csv,
)
from warehouse.raw.schema import TRUTH_FILE, table
from warehouse.raw.synth.application import PENDING_SHARE, generate_clients
from warehouse.raw.synth.bureau import generate_bureau
from warehouse.raw.synth.common import arrow_table, sigmoid
from warehouse.raw.synth.drift import DriftSpec, apply_drift
from warehouse.raw.synth.previous import generate_previous
from warehouse.raw.synth.truth import driver_log_odds

MATURE_SHARE = 0.5
MAX_MONTHS = 99
_ARRIVAL_STREAM, _MATURE_STREAM = 7_000, 8_000


def month_dir(out_dir: Path, month: int) -> Path:
    """Month 0 is DIR itself; month m ≥ 1 is DIR/month=MM."""
    return Path(out_dir) if month == 0 else Path(out_dir) / f"month={month:02d}"


@dataclass
class MonthResult:
    month: int
    folder: Path
    arrivals: int
    matured: int
    history: int
    pending: int

    def render(self) -> str:
        return (f"  month {self.month:02d}: {self.folder} — {self.arrivals:,} new applications, "
                f"{self.matured:,} outcomes arrived, {self.history:,} history, "
                f"{self.pending:,} pending")


@dataclass
class _Ids:
    client: int
    bureau: int
    previous: int


def generate_months(clients: int, out_dir: Path, months: int, seed: int = 42,
                    drift: DriftSpec | None = None, arrivals: int | None = None,
                    progress: bool = False) -> list[MonthResult]:
    """Month 0 (the usual sample) then months 1..M, each a complete Kaggle export."""
    if not 1 <= months <= MAX_MONTHS:
        raise BadInput(f"--months must be between 1 and {MAX_MONTHS}, got {months}")
    drift = drift or DriftSpec()
    base: GenerationResult = generate_portfolio(clients, out_dir, seed=seed, progress=progress)
    per_month = arrivals if arrivals is not None else max(10, round(clients * PENDING_SHARE))
    con = duckdb.connect()
    try:
        ids = _Ids(_max_client_id(con, Path(out_dir)) + 1, base.next_bureau_id,
                   base.next_previous_id)
        results = []
        for month in range(1, months + 1):
            result = _write_month(con, Path(out_dir), month, seed, per_month, drift,
                                  base.calibration, ids)
            results.append(result)
            if progress:
                print(result.render())
    finally:
        con.close()
    return results


def _max_client_id(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    return int(con.execute(f"select max(sk_id_curr::bigint) from {_text(folder / TRUTH_FILE)}"
                           ).fetchall()[0][0])


def _text(path: Path) -> str:
    """Every field as the text the file holds (so copies keep the format byte for byte);
    hive partitioning off, or the `month=MM` folder name would become a column."""
    return f"read_csv('{path}', all_varchar = true, header = true, hive_partitioning = false)"


def _arrivals(month: int, seed: int, n: int, drift: DriftSpec, calibration: tuple[float, float],
              ids: _Ids) -> dict[str, pa.Table]:
    """Arrow tables of one month's new applications (all pending) and their truth rows."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, _ARRIVAL_STREAM, month]))
    client_ids = ids.client + np.arange(n)
    block = generate_clients(rng, client_ids, pending_share=1.0)
    apply_drift(rng, block, drift)
    bureau = generate_bureau(rng, block, ids.bureau)
    previous = generate_previous(rng, block, ids.previous)
    ids.client, ids.bureau, ids.previous = ids.client + n, bureau.next_id, previous.next_id
    drivers = {**bureau.drivers, **previous.drivers, "ext_sources": block.ext_sources,
               "annuity": block.annuity, "income": block.income, "age_years": block.age_years,
               "years_employed": block.years_employed}
    scale, intercept = calibration
    probability = sigmoid(scale * driver_log_odds(drivers) + intercept)
    outcome = (rng.random(n) < probability).astype(np.int64)
    test = table("application_test")
    out = {"application_test": arrow_table(test, {c: block.columns[c] for c in test.column_names}),
           "bureau": bureau.bureau, "bureau_balance": bureau.balance,
           "previous_application": previous.previous, "pos_cash_balance": previous.pos,
           "credit_card_balance": previous.card, "installments_payments": previous.installments}
    tables = {name: value if isinstance(value, pa.Table) else arrow_table(table(name), value)
              for name, value in out.items()}
    tables["truth"] = pa.table({"sk_id_curr": client_ids, "true_probability": probability,
                                "outcome": outcome})
    return tables


def _append(source: Path, part: Path, target: Path) -> None:
    """target = source followed by the header-less part (byte copies: format untouched)."""
    with target.open("wb") as out:
        for path in (source, part):
            with path.open("rb") as src:
                shutil.copyfileobj(src, out, 16 * 1024 * 1024)


def _write_month(con: duckdb.DuckDBPyConnection, out_dir: Path, month: int, seed: int, n: int,
                 drift: DriftSpec, calibration: tuple[float, float], ids: _Ids) -> MonthResult:
    previous, final = month_dir(out_dir, month - 1), month_dir(out_dir, month)
    new = _arrivals(month, seed, n, drift, calibration, ids)
    with tempfile.TemporaryDirectory(prefix=".pad-month-", dir=out_dir) as tmp:
        work = Path(tmp)
        for name in [*BEHAVIOUR_TABLES, "truth"]:
            file = TRUTH_FILE if name == "truth" else table(name).file
            part = work / f"{name}.part.csv"
            write_csv(con, new[name], part, header=False)
            _append(previous / file, part, work / file)
            part.unlink()
        write_csv(con, new["application_test"], work / "arrivals.csv", header=True)
        matured = _write_applications(con, previous, work, month, seed)
        (work / "arrivals.csv").unlink()
        counts = [con.execute(f"select count(*) from {_text(work / table(name).file)}"
                              ).fetchall()[0][0] for name in ("application_train", "application_test")]
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
        work.mkdir()  # TemporaryDirectory removes its folder on exit
    return MonthResult(month, final, n, matured, int(counts[0]), int(counts[1]))


def _write_applications(con: duckdb.DuckDBPyConnection, previous: Path, work: Path, month: int,
                        seed: int) -> int:
    """application_train gains the matured pending clients (TARGET from truth.csv);
    application_test loses them and gains the month's arrivals. Fields are copied as text."""
    train, test = table("application_train"), table("application_test")

    con.execute(f"create or replace temp table _pending as select * from "
                f"{_text(previous / test.file)}")
    pending_ids = np.sort(con.execute(
        "select SK_ID_CURR::bigint as id from _pending").fetchnumpy()["id"])
    rng = np.random.default_rng(np.random.SeedSequence([seed, _MATURE_STREAM, month]))
    matured = pending_ids[rng.random(len(pending_ids)) < MATURE_SHARE]
    con.register("_matured", pa.table({"sk_id_curr": matured}))
    try:
        train_cols = ", ".join(
            "t.outcome::varchar as TARGET" if c == "TARGET" else f'p."{c}"'
            for c in train.column_names)
        test_cols = ", ".join(f'"{c}"' for c in test.column_names)
        options = "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NEW_LINE '\\r\\n'"
        con.execute(f"""
            copy (
                select * from (
                    select * from {_text(previous / train.file)}
                    union all
                    select {train_cols} from _pending p
                    join {_text(previous / TRUTH_FILE)} t on t.sk_id_curr::bigint = p.SK_ID_CURR::bigint
                    where p.SK_ID_CURR::bigint in (select sk_id_curr from _matured)
                ) order by SK_ID_CURR::bigint
            ) to '{work / train.file}' ({options})""")
        con.execute(f"""
            copy (
                select * from (
                    select {test_cols} from _pending
                    where SK_ID_CURR::bigint not in (select sk_id_curr from _matured)
                    union all
                    select {test_cols} from {_text(work / 'arrivals.csv')}
                ) order by SK_ID_CURR::bigint
            ) to '{work / test.file}' ({options})""")
    finally:
        con.unregister("_matured")
    return len(matured)
