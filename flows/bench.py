"""`pad bench`: the benchmarks of DESIGN §6, printed as one table.

Each measured run executes in a child process (`python -m flows.bench --child …`) so its peak RSS
is its own (read with wait4). Steps run `repeat` times and the table shows medians; a step with a
baseline (e.g. load vs a plain DuckDB CSV read of the same files) runs it in the same session and
reports the ratio. Everything happens in a temporary PAD_HOME unless one is given. The steps
themselves are in flows.bench_steps.
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
from dataclasses import dataclass, field
from pathlib import Path

from flows.bench_steps import STEPS, StepOutcome
from warehouse.config import pad_paths


@dataclass
class Measurement:
    step: str
    rows: int
    seconds: float
    peak_rss_mb: float
    baseline_seconds: float | None = None
    note: str = ""
    rank: float | None = None
    profile: list[tuple[str, float]] = field(default_factory=list)  # (phase or node, seconds)
    cpu_seconds: float = 0.0  # user + system time of the child: steadier than wall on a busy host
    baseline_cpu_seconds: float | None = None


SCALE = "scale"  # the partitioned refresh on Dask at 1 and 2 workers (flows.bench_scale)
DEFAULT_STEPS = ["sample", "validate", "load", "dbt", "refresh_cold", "refresh_unchanged",
                 "quality", "api", "dashboard"]


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
                       peak_rss_mb=usage.ru_maxrss / 1024, note=data.get("note", ""),
                       rank=data.get("rank"),
                       profile=[(name, sec) for name, sec in data.get("profile", [])],
                       cpu_seconds=usage.ru_utime + usage.ru_stime)


def _child(args: argparse.Namespace) -> None:
    paths = pad_paths(Path(args.home).resolve())
    paths.build.mkdir(parents=True, exist_ok=True)
    # this process is the step's: what it runs (dbt's target and logs, models that read
    # PAD_HOME) belongs to the bench's home, not to ./data
    os.environ["PAD_HOME"] = str(paths.home)
    measured, baseline = STEPS[args.child]
    func = baseline if args.baseline else measured
    assert func is not None
    started = time.perf_counter()
    outcome = func(paths, args.clients, args.seed)
    seconds = time.perf_counter() - started
    note, rank, profile = "", None, []
    if isinstance(outcome, StepOutcome):
        rows, note, rank, profile = outcome.rows, outcome.note, outcome.rank, outcome.profile
        seconds = outcome.seconds if outcome.seconds is not None else seconds
    elif isinstance(outcome, tuple):  # the step timed its own core, without its set-up
        rows, seconds = outcome
    else:
        rows = outcome
    Path(args.result).write_text(json.dumps({"rows": rows, "seconds": seconds, "note": note,
                                             "rank": rank, "profile": profile}))


def median_run(runs: list[Measurement]) -> Measurement:
    """The run in the middle when ordered by rank (or seconds): its note goes in the table."""
    ordered = sorted(runs, key=lambda r: r.rank if r.rank is not None else r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def render_table(results: list[Measurement], clients: int, repeat: int) -> str:
    header = (f"pad bench — {clients:,} clients, median of {repeat} run(s), "
              f"{os.cpu_count()} cores")
    lines = [header, "",
             "| step | rows | seconds | rows/s | peak RSS (MiB) | baseline s | ratio | notes |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for m in results:
        base = f"{m.baseline_seconds:.2f}" if m.baseline_seconds else "—"
        ratio = f"{m.seconds / m.baseline_seconds:.2f}" if m.baseline_seconds else "—"
        rate = f"{m.rows / m.seconds:,.0f}" if m.seconds > 0 else "—"
        lines.append(f"| {m.step} | {m.rows:,} | {m.seconds:.2f} | {rate} | "
                     f"{m.peak_rss_mb:,.0f} | {base} | {ratio} | {m.note} |")
    return "\n".join(lines)


def render_load_and_dbt(results: list[Measurement]) -> str:
    """load + dbt against the load's read_csv baseline (the mart target of issue 14)."""
    found = {m.step: m for m in results}
    load, dbt = found.get("load"), found.get("dbt")
    if not (load and dbt and load.baseline_seconds):
        return ""
    wall = load.seconds + dbt.seconds
    line = (f"load + dbt: {wall:.2f} s = {wall / load.baseline_seconds:.2f}x the plain read_csv "
            f"baseline; peak RSS {max(load.peak_rss_mb, dbt.peak_rss_mb):,.0f} MiB")
    if load.baseline_cpu_seconds:
        cpu = load.cpu_seconds + dbt.cpu_seconds
        line += f"; CPU {cpu:.1f} s = {cpu / load.baseline_cpu_seconds:.2f}x the baseline's"
    return "\n" + line


def render_profile(results: list[Measurement], top: int) -> str:
    """The slowest phases or dbt nodes inside each profiled step (from its median run)."""
    lines = []
    for m in results:
        if not m.profile:
            continue
        total = m.seconds or 1.0
        base = ""
        if m.baseline_seconds:
            base = (f"; baseline {m.baseline_seconds:.2f} s wall, "
                    f"{m.baseline_cpu_seconds or 0:.1f} s CPU")
        title = (f"{m.step}: the {min(top, len(m.profile))} slowest of {len(m.profile)} "
                 f"phases/nodes (median run, {m.seconds:.2f} s wall, "
                 f"{m.cpu_seconds:.1f} s CPU{base})")
        lines += ["", title, "| phase or node | seconds | share |", "|---|---:|---:|"]
        lines += [f"| {name} | {sec:.2f} | {sec / total:.0%} |" for name, sec in m.profile[:top]]
    return "\n".join(lines)


def run_bench(clients: int, steps: list[str] | None, home: str | None, seed: int,
              repeat: int = 3, profile: int = 0, partitions: list[int] | None = None,
              workers: list[int] | None = None) -> int:
    chosen = steps or DEFAULT_STEPS
    unknown = [s for s in chosen if s not in STEPS and s != SCALE]
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
        for step in [s for s in chosen if s != SCALE]:
            has_baseline = STEPS[step][1] is not None
            runs, base = [], []
            for _ in range(repeat):
                # interleaved, so a change in the host's load hits both sides alike
                runs.append(_run_child(step, root, clients, seed, baseline=False))
                if has_baseline:
                    base.append(_run_child(step, root, clients, seed, baseline=True))
            middle = median_run(runs)
            m = Measurement(step=step, rows=runs[0].rows,
                            seconds=statistics.median(r.seconds for r in runs),
                            peak_rss_mb=max(r.peak_rss_mb for r in runs),
                            note=middle.note, profile=middle.profile,
                            cpu_seconds=statistics.median(r.cpu_seconds for r in runs))
            if base:
                m.baseline_seconds = statistics.median(b.seconds for b in base)
                m.baseline_cpu_seconds = statistics.median(b.cpu_seconds for b in base)
            results.append(m)
            print(f"bench: {step} done in {m.seconds:.1f}s (median)", file=sys.stderr)
        if results:
            print(render_table(results, clients, repeat) + render_load_and_dbt(results))
        if profile:
            print(render_profile(results, profile))
        if SCALE in chosen:  # its own table (flows.bench_scale), one run per configuration
            from flows.bench_scale import run_scale

            print(run_scale(pad_paths(root), partitions or [4], workers))
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
