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
from dataclasses import dataclass, field
from pathlib import Path

from warehouse.config import PadPaths, pad_paths


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


@dataclass
class StepOutcome:
    """What a step reports: rows handled, its own timing when set-up must not count, a note,
    and the number that orders repeated runs when their notes differ (the table shows the
    note of the median run; default: by seconds)."""

    rows: int
    seconds: float | None = None
    note: str = ""
    rank: float | None = None
    profile: list[tuple[str, float]] = field(default_factory=list)  # slowest first


# --- the steps: each takes (paths, clients, seed) and returns the number of rows it handled ---

def step_sample(paths: PadPaths, clients: int, seed: int) -> int:
    from warehouse.raw.generate import generate_portfolio

    result = generate_portfolio(clients=clients, out_dir=paths.raw, seed=seed)
    return sum(result.rows.values())


def step_validate(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    from warehouse.raw.validate import validate_raw

    report = validate_raw(paths.raw, work_dir=paths.build)
    return StepOutcome(rows=report.total_rows, profile=report.phases.slowest())


def step_load(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    from warehouse.raw.load import load_raw

    target = paths.build / "bench-load.duckdb"
    target.unlink(missing_ok=True)
    result = load_raw(paths.raw, out=target, paths=paths)
    return StepOutcome(rows=result.total_rows, profile=result.report.phases.slowest())


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


def step_dbt(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
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
    run = build_marts(target)
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(target), read_only=True)
    rows = con.execute("select count(*) from marts.client_features").fetchone()[0]
    con.close()
    return StepOutcome(rows=rows, seconds=seconds, note=f"{len(run.nodes)} nodes",
                       profile=run.profile())


def _refresh(paths: PadPaths, retrain: bool) -> StepOutcome:
    from flows.refresh import run_refresh
    from flows.runs import last_published

    started = time.perf_counter()
    run_refresh(raw=paths.raw, retrain=retrain, paths=paths)
    seconds = time.perf_counter() - started
    record = last_published(paths) or {}
    parts = ", ".join(f"{k[8:]} {v:.0f}s" for k, v in record.items()
                      if k.startswith("seconds_") and v and k != "seconds_total")
    return StepOutcome(rows=int(record.get("clients") or 0), seconds=seconds, note=parts)


def step_refresh_cold(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    """Cold refresh end to end with training: no published warehouse, no model."""
    import shutil

    for folder in (paths.models, paths.runs, paths.build):
        shutil.rmtree(folder, ignore_errors=True)
    paths.warehouse.unlink(missing_ok=True)
    return _refresh(paths, retrain=True)


def step_refresh_unchanged(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    """A second refresh on the same inputs, no retrain (after refresh_cold)."""
    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    outcome = _refresh(paths, retrain=False)
    return StepOutcome(rows=outcome.rows, seconds=outcome.seconds, note="nothing recomputed")


def step_quality(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    """Model AUC on the pending clients against truth.csv, the oracle AUC, and their ratio."""
    import duckdb
    from sklearn.metrics import roc_auc_score

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    frame = con.execute(f"""
        select s.probability_default, t.true_probability, t.outcome
        from serving.client_scores s
        join read_csv('{paths.raw / 'truth.csv'}') t using (sk_id_curr)
        join serving.clients c using (sk_id_curr)
        where c.population = 'pending'""").df()
    con.close()
    model = roc_auc_score(frame["outcome"], frame["probability_default"])
    oracle = roc_auc_score(frame["outcome"], frame["true_probability"])
    relative = (model - 0.5) / (oracle - 0.5)
    return StepOutcome(rows=len(frame), seconds=0.0,
                       note=f"model AUC {model:.4f}, oracle AUC {oracle:.4f}, "
                            f"relative {relative:.3f} (pending clients)")


def step_api(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    from dashboard.bench import measure_api

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    at_8, at_32 = (measure_api(paths.warehouse, concurrency=c, requests=2000) for c in (8, 32))
    notes = [f"{r['concurrency']} clients: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
             f"{r['rps']:.0f} req/s, {r['errors']} errors" for r in (at_8, at_32)]
    # seconds: the measured requests only (server start and warm-up excluded); the median run
    # is the one with the median p99 at 8 clients, the target's measure
    return StepOutcome(rows=int(at_8["requests"]) + int(at_32["requests"]),
                       seconds=float(at_8["seconds"]) + float(at_32["seconds"]),
                       note="; ".join(notes), rank=float(at_8["p99_ms"]))


def step_dashboard(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    from dashboard.bench import measure_dashboard

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    times = measure_dashboard(paths.warehouse, switches=10)
    return StepOutcome(rows=10, seconds=times["switch_s"],
                       note=f"median time to a complete client page; first client on a fresh "
                            f"server {times['first_client_s']:.2f} s "
                            f"({times['first_client_s'] / times['switch_s']:.1f}× a switch), "
                            f"empty page {times['page_s']:.2f} s")


def step_decisions(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    from dashboard.decision_bench import measure_decisions, note

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    runs = {b: measure_decisions(paths.warehouse, b, seed=seed) for b in ("sqlite",
                                                                          "postgresql")}
    # seconds: the measured writes of both backends; the median run by SQLite's p99
    return StepOutcome(rows=sum(int(r["requests"]) for r in runs.values()),
                       seconds=sum(float(r["seconds"]) for r in runs.values()),
                       note="; ".join(note(b, r) for b, r in runs.items()) + " (8 writers)",
                       rank=float(runs["sqlite"]["p99_ms"]))


def step_whatif(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    """What-if latency at 8 concurrent clients and the batch recourse step's cost."""
    from dashboard.whatif_bench import measure_batch_recourse, measure_whatif

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    at_8 = measure_whatif(paths.warehouse, concurrency=8, seed=seed)
    batch = measure_batch_recourse(paths.warehouse, paths.models, paths.build)
    note = (f"what-if at 8 clients: p50 {at_8['p50_ms']:.1f} ms, p99 {at_8['p99_ms']:.1f} ms, "
            f"{at_8['rps']:.1f} req/s, {at_8['errors']} errors, "
            f"{at_8['cpu_ms_per_request']:.1f} ms server CPU per request, server RSS "
            f"{at_8['server_rss_mb']:,.0f} MB; batch recourse "
            f"{batch['seconds']:.1f} s ({batch['cpu_seconds']:.1f} s CPU) for "
            f"{batch['refused_pending']:,} refused pending "
            f"clients ({batch['with_options']:,} with options, {batch['options']:,} options)")
    return StepOutcome(rows=int(at_8["requests"]), seconds=float(at_8["seconds"]), note=note,
                       rank=float(at_8["p99_ms"]))


def step_monitor(paths: PadPaths, clients: int, seed: int) -> StepOutcome:
    """What monitoring adds to a refresh, on the published warehouse (after refresh_cold): the
    monitor step, the dbt monitoring models with their tests (sum of node times: what they add
    to the serving build), and history + alerts after the publish; in a private PAD_HOME."""
    import shutil

    from models_ml.monitoring.step import after_publish, prepare_monitoring
    from warehouse.dbt_runner import run_dbt

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    home = pad_paths(paths.home / "bench-monitor")
    shutil.rmtree(home.home, ignore_errors=True)
    shutil.copytree(paths.models, home.models)
    home.build.mkdir(parents=True)
    build = home.build / "monitor.duckdb"
    shutil.copy(paths.warehouse, build)
    previous_home = os.environ.get("PAD_HOME")
    os.environ["PAD_HOME"] = str(home.home)  # serving.alerts reads this home's alerts/
    try:
        from warehouse.alerts import ensure_alert_store

        ensure_alert_store(home)
        run_id = "bench-monitor"
        started = time.perf_counter()
        summary = prepare_monitoring(build, home, run_id)
        prepare = time.perf_counter() - started
        dbt = run_dbt(["build", "--select", "path:models/monitoring",
                       "path:models/operations/alerts.sql"], build)
        models = sum(node.seconds for node in dbt.nodes)
        os.replace(build, home.warehouse)
        started = time.perf_counter()
        alerts = after_publish(home, run_id)
        history = time.perf_counter() - started
    finally:
        if previous_home is None:
            os.environ.pop("PAD_HOME", None)
        else:
            os.environ["PAD_HOME"] = previous_home
        shutil.rmtree(home.home, ignore_errors=True)
    from flows.runs import last_published

    clients = int((last_published(paths) or {}).get("clients") or 0)
    return StepOutcome(rows=clients, seconds=prepare + models + history,
                       note=f"monitor step {prepare:.1f}s + dbt monitoring models "
                            f"{models:.1f}s + history/alerts {history:.1f}s; {len(alerts)} "
                            f"alert(s); {len(summary.features)} features + score")


StepFunc = Callable[[PadPaths, int, int], "int | tuple[int, float] | StepOutcome"]
STEPS: dict[str, tuple[StepFunc, StepFunc | None]] = {
    "sample": (step_sample, None),
    "validate": (step_validate, None),
    "load": (step_load, baseline_load),
    "dbt": (step_dbt, None),
    "refresh_cold": (step_refresh_cold, None),
    "refresh_unchanged": (step_refresh_unchanged, None),
    "quality": (step_quality, None),
    "api": (step_api, None),
    "dashboard": (step_dashboard, None),
    "decisions": (step_decisions, None),
    "whatif": (step_whatif, None),
    "monitor": (step_monitor, None),
}
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
    paths = pad_paths(args.home)
    paths.build.mkdir(parents=True, exist_ok=True)
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
             "| step | rows | seconds | rows/s | peak RSS (MB) | baseline s | ratio | notes |",
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
            f"baseline; peak RSS {max(load.peak_rss_mb, dbt.peak_rss_mb):,.0f} MB")
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
