"""`pad sample`: write a synthetic portfolio in exactly the real Kaggle format.

Clients are generated in fixed blocks, each with its own seeded random stream, so a seed always
gives the same files. Each block's behaviour tables are written to part files by a background
writer (DuckDB's CSV writer: CRLF, `135000.0` floats, quotes only where needed) while the next
block is generated; the application files come last because TARGET needs the whole portfolio to
calibrate the planted default mechanism (`synth/truth.py`). Everything is written into a private
folder first and moved into place at the end, so a failed run leaves no half-written portfolio.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from tqdm import tqdm

from warehouse.errors import BadInput
from warehouse.raw.schema import TRUTH_FILE, ZIP_NAME, Table, table, tables
from warehouse.raw.synth.application import ClientBlock, generate_clients
from warehouse.raw.synth.bureau import generate_bureau
from warehouse.raw.synth.common import Cat, arrow_table, sigmoid
from warehouse.raw.synth.previous import generate_previous
from warehouse.raw.synth.truth import calibrate, driver_log_odds, expected_auc

BLOCK_SIZE = 25_000
FIRST_CLIENT_ID = 100001
FIRST_BUREAU_ID = 5000000
FIRST_PREVIOUS_ID = 1000001
BEHAVIOUR_TABLES = ["bureau", "bureau_balance", "previous_application", "pos_cash_balance",
                    "credit_card_balance", "installments_payments"]


@dataclass
class GenerationResult:
    out_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    target_rate: float = 0.0
    oracle_auc: float = 0.0
    calibration: tuple[float, float] = (1.0, 0.0)  # (scale, intercept) of the planted log-odds
    next_bureau_id: int = FIRST_BUREAU_ID
    next_previous_id: int = FIRST_PREVIOUS_ID

    def render(self) -> str:
        head = (f"wrote {self.out_dir} in {self.seconds:.1f}s "
                f"(TARGET rate {self.target_rate:.2%}, oracle AUC {self.oracle_auc:.3f})")
        lines = [head]
        lines += [f"  {name:<28}{rows:>12,} rows" for name, rows in self.rows.items()]
        return "\n".join(lines)


class _PartWriter:
    """Writes Arrow blocks to numbered CSV part files on one background thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: dict[str, list[Path]] = {}
        self.rows: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future] = []
        self._con: duckdb.DuckDBPyConnection | None = None

    def submit(self, name: str, data: pa.Table) -> None:
        parts = self.parts.setdefault(name, [])
        path = self.folder / f"{name}.part{len(parts):04d}.csv"
        parts.append(path)
        self.rows[name] = self.rows.get(name, 0) + data.num_rows
        self._pending.append(self._pool.submit(self._write, data, path, len(parts) == 1))
        while len(self._pending) > 6:  # bound the memory held by queued blocks
            self._pending.pop(0).result()

    def _write(self, data: pa.Table, path: Path, header: bool) -> None:
        if self._con is None:
            self._con = duckdb.connect()
        write_csv(self._con, data, path, header)

    def finish(self) -> None:
        for job in self._pending:
            job.result()
        self._pending.clear()
        self._pool.submit(self._close).result()
        self._pool.shutdown()

    def _close(self) -> None:
        if self._con is not None:
            self._con.close()


def write_csv(con: duckdb.DuckDBPyConnection, data: pa.Table, path: Path, header: bool) -> None:
    """CSV exactly like the Kaggle files: CRLF, empty = missing, minimal quoting."""
    con.register("block", data)
    try:
        con.execute(f"COPY block TO '{path}' (FORMAT csv, HEADER {str(header).lower()}, "
                    "DELIMITER ',', QUOTE '\"', NEW_LINE '\\r\\n')")
    finally:
        con.unregister("block")


def _concatenate(parts: list[Path], target: Path) -> None:
    with target.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, 16 * 1024 * 1024)
            part.unlink()


def _application_table(tbl: Table, blocks: list[ClientBlock], select: list[np.ndarray],
                       target: np.ndarray | None) -> pa.Table:
    columns: dict[str, object] = {}
    for name in tbl.column_names:
        if name == "TARGET":
            columns[name] = target
            continue
        pieces = [b.columns[name] for b in blocks]
        if isinstance(pieces[0], Cat):
            levels = pieces[0].levels
            codes = np.concatenate([p.codes for p in pieces])
            columns[name] = Cat(codes[np.concatenate(select)], levels)
        else:
            columns[name] = np.concatenate([np.asarray(p)[s] for p, s in zip(pieces, select)])
    return arrow_table(tbl, columns)


def _driver_table(blocks: list[ClientBlock], drivers: list[dict[str, np.ndarray]]
                  ) -> dict[str, np.ndarray]:
    merged = {k: np.concatenate([d[k] for d in drivers]) for k in drivers[0]}
    merged.update({
        "ext_sources": np.concatenate([b.ext_sources for b in blocks]),
        "annuity": np.concatenate([b.annuity for b in blocks]),
        "income": np.concatenate([b.income for b in blocks]),
        "age_years": np.concatenate([b.age_years for b in blocks]),
        "years_employed": np.concatenate([b.years_employed for b in blocks]),
    })
    return merged


def _write_zip(folder: Path, names: list[str], target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in names:
            zf.write(folder / name, arcname=name)


def generate_portfolio(clients: int, out_dir: Path, seed: int = 42, write_zip: bool = False,
                       progress: bool = False) -> GenerationResult:
    """Write the 8 Kaggle CSVs (+ truth.csv, + the Kaggle zip if asked) into `out_dir`."""
    if clients < 10:
        raise BadInput(f"--clients must be at least 10, got {clients}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_blocks = -(-clients // BLOCK_SIZE)
    bar = tqdm(total=n_blocks + 3, desc="sample", unit="step", disable=not progress,
               dynamic_ncols=True)
    with tempfile.TemporaryDirectory(prefix=".pad-sample-", dir=out_dir) as tmp:
        work = Path(tmp)
        writer = _PartWriter(work)
        blocks, drivers = [], []
        bureau_id, previous_id = FIRST_BUREAU_ID, FIRST_PREVIOUS_ID
        for k in range(n_blocks):
            rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
            start = k * BLOCK_SIZE
            ids = FIRST_CLIENT_ID + np.arange(start, min(start + BLOCK_SIZE, clients))
            block = generate_clients(rng, ids)
            bureau = generate_bureau(rng, block, bureau_id)
            previous = generate_previous(rng, block, previous_id)
            bureau_id, previous_id = bureau.next_id, previous.next_id
            outputs = {"bureau": bureau.bureau, "bureau_balance": bureau.balance,
                       "previous_application": previous.previous, "pos_cash_balance": previous.pos,
                       "credit_card_balance": previous.card,
                       "installments_payments": previous.installments}
            for name in BEHAVIOUR_TABLES:
                writer.submit(name, arrow_table(table(name), outputs[name]))
            blocks.append(block)
            drivers.append({**bureau.drivers, **previous.drivers})
            bar.set_postfix_str(f"{min(start + BLOCK_SIZE, clients):,}/{clients:,} clients")
            bar.update(1)

        bar.set_postfix_str("default mechanism")
        log_odds = driver_log_odds(_driver_table(blocks, drivers))
        calibration = calibrate(log_odds)
        probability = sigmoid(calibration[0] * log_odds + calibration[1])
        outcome_rng = np.random.default_rng(np.random.SeedSequence([seed, 10**6]))
        outcome = (outcome_rng.random(len(probability)) < probability).astype(np.int64)
        pending = np.concatenate([b.pending for b in blocks])
        bar.update(1)

        bar.set_postfix_str("application files")
        history_rows = [~b.pending for b in blocks]
        writer.submit("application_train", _application_table(
            table("application_train"), blocks, history_rows, outcome[~pending]))
        writer.submit("application_test", _application_table(
            table("application_test"), blocks, [b.pending for b in blocks], None))
        truth = pa.table({"sk_id_curr": np.concatenate([b.ids for b in blocks]),
                          "true_probability": probability, "outcome": outcome})
        writer.submit("truth", truth)
        writer.finish()
        bar.update(1)

        bar.set_postfix_str("assembling files")
        names = [t.file for t in tables().values()]
        for t in tables().values():
            _concatenate(writer.parts[t.name], work / t.file)
        _concatenate(writer.parts["truth"], work / TRUTH_FILE)
        if write_zip:
            _write_zip(work, names, work / ZIP_NAME)
        for name in names + [TRUTH_FILE] + ([ZIP_NAME] if write_zip else []):
            os.replace(work / name, out_dir / name)
        bar.update(1)
    bar.close()

    result = GenerationResult(out_dir=out_dir, seconds=time.perf_counter() - started,
                              target_rate=float(outcome[~pending].mean()),
                              oracle_auc=expected_auc(probability), calibration=calibration,
                              next_bureau_id=bureau_id, next_previous_id=previous_id)
    result.rows = {t.file: writer.rows[t.name] for t in tables().values()}
    if progress:
        print(result.render())
    return result
