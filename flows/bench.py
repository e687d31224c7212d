"""`pad bench`: the benchmarks of DESIGN §6, printed as one table.

Each measured run executes in a child process (`python -m flows.bench --child …`) so its peak RSS
is its own (read with wait4). Steps run `repeat` times and the table shows medians; a step with a
baseline (e.g. load vs a plain DuckDB CSV read of the same files) runs it in the same session and
reports the ratio. Everything happens in a temporary PAD_HOME unless one is given.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warehouse.config import PadPaths, pad_paths


@dataclass
class Measurement:
    step: str
    rows: int
    seconds: float
    peak_rss_mb: float
    baseline_seconds: float | None = None


# --- the steps: each takes (paths, clients, seed) and returns the number of rows it handled ---

def step_sample(paths: PadPaths, clients: int, seed: int) -> int:
    from warehouse.raw.generate import generate_portfolio

    result = generate_portfolio(clients=clients, out_dir=paths.raw, seed=seed)
    return sum(result.rows.values())


def step_validate(paths: PadPaths, clients: int, seed: int) -> int:
    from warehouse.raw.validate import validate_raw

    report = validate_raw(paths.raw, work_dir=paths.build)
    return sum(report.rows.values())


def step_load(paths: PadPaths, clients: int, seed: int) -> int:
    from warehouse.raw.load import load_raw

    target = paths.build / "bench-load.duckdb"
    target.unlink(missing_ok=True)
    result = load_raw(paths.raw, out=target, paths=paths)
    return sum(result.rows.values())


def baseline_load(paths: PadPaths, clients: int, seed: int) -> int:
    """Plain DuckDB: auto-detected read_csv of each file into a table, no checks."""
    import duckdb

    from warehouse.raw.schema import tables

    target = paths.build / "bench-baseline.duckdb"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    rows = 0
    for t in tables().values():
        con.execute(f"create table {t.name} as select * from read_csv('{paths.raw / t.file}')")
        rows += con.execute(f"select count(*) from {t.name}").fetchone()[0]
    con.close()
    target.unlink()
    return rows


def step_dbt(paths: PadPaths, clients: int, seed: int) -> tuple[int, float]:
    """dbt build of staging → intermediate → marts (with tests) on a copy of the load output."""
    import shutil

    import duckdb

    from warehouse.dbt_runner import build_marts

    loaded = paths.build / "bench-load.duckdb"
    if not loaded.exists():
        step_load(paths, clients, seed)
    target = paths.build / "bench-dbt.duckdb"
    shutil.copyfile(loaded, target)
    started = time.perf_counter()
    build_marts(target)
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(target), read_only=True)
    rows = con.execute("select count(*) from marts.client_features").fetchone()[0]
    con.close()
    return rows, seconds


StepFunc = Callable[[PadPaths, int, int], int | tuple[int, float]]
STEPS: dict[str, tuple[StepFunc, StepFunc | None]] = {
    "sample": (step_sample, None),
    "validate": (step_validate, None),
    "load": (step_load, baseline_load),
    "dbt": (step_dbt, None),
}


def _run_child(step: str, home: Path, clients: int, seed: int, baseline: bool) -> Measurement:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        result_file = Path(out.name)
    cmd = [sys.executable, "-m", "flows.bench", "--child", step, "--home", str(home),
           "--clients", str(clients), "--seed", str(seed), "--result", str(result_file)]
    if baseline:
        cmd.append("--baseline")
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench step {step} failed with exit code {proc.returncode}")
    data = json.loads(result_file.read_text())
    result_file.unlink()
    return Measurement(step=step, rows=data["rows"], seconds=data["seconds"],
                       peak_rss_mb=usage.ru_maxrss / 1024)


def _child(args: argparse.Namespace) -> None:
    paths = pad_paths(args.home)
    paths.build.mkdir(parents=True, exist_ok=True)
    measured, baseline = STEPS[args.child]
    func = baseline if args.baseline else measured
    assert func is not None
    started = time.perf_counter()
    outcome = func(paths, args.clients, args.seed)
    seconds = time.perf_counter() - started
    if isinstance(outcome, tuple):  # the step timed its own core, without its set-up
        rows, seconds = outcome
    else:
        rows = outcome
    Path(args.result).write_text(json.dumps({"rows": rows, "seconds": seconds}))


def render_table(results: list[Measurement], clients: int, repeat: int) -> str:
    header = (f"pad bench — {clients:,} clients, median of {repeat} run(s), "
              f"{os.cpu_count()} cores")
    lines = [header, "",
             "| step | rows | seconds | rows/s | peak RSS (MB) | baseline s | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for m in results:
        base = f"{m.baseline_seconds:.2f}" if m.baseline_seconds else "—"
        ratio = f"{m.seconds / m.baseline_seconds:.2f}" if m.baseline_seconds else "—"
        lines.append(f"| {m.step} | {m.rows:,} | {m.seconds:.2f} | {m.rows / m.seconds:,.0f} | "
                     f"{m.peak_rss_mb:,.0f} | {base} | {ratio} |")
    return "\n".join(lines)


def run_bench(clients: int, steps: list[str] | None, home: str | None, seed: int,
              repeat: int = 3) -> int:
    chosen = steps or list(STEPS)
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        from warehouse.errors import BadInput

        raise BadInput(f"unknown bench step(s) {', '.join(unknown)}; "
                       f"available: {', '.join(STEPS)}")
    with tempfile.TemporaryDirectory(prefix="pad-bench-") as tmp:
        root = Path(home) if home else Path(tmp)
        needs_raw = any(s != "sample" for s in chosen) and "sample" not in chosen
        if needs_raw and not (root / "raw" / "application_train.csv").exists():
            _run_child("sample", root, clients, seed, baseline=False)
        results = []
        for step in chosen:
            runs = [_run_child(step, root, clients, seed, baseline=False) for _ in range(repeat)]
            m = Measurement(step=step, rows=runs[0].rows,
                            seconds=statistics.median(r.seconds for r in runs),
                            peak_rss_mb=max(r.peak_rss_mb for r in runs))
            if STEPS[step][1] is not None:
                base = [_run_child(step, root, clients, seed, baseline=True).seconds
                        for _ in range(repeat)]
                m.baseline_seconds = statistics.median(base)
            results.append(m)
            print(f"bench: {step} done in {m.seconds:.1f}s (median)", file=sys.stderr)
        print(render_table(results, clients, repeat))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--baseline", action="store_true")
    _child(parser.parse_args())
