"""The measured steps of `pad bench` (DESIGN §6): each takes (paths, clients, seed), does one
thing a user or the refresh does on the bench's PAD_HOME, and reports what it handled
(`StepOutcome`). `STEPS` maps a step's name to it and to its baseline, if any (a plain-engine
run of the same work in the same session). flows.bench runs them in child processes, times
them and prints the table.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from warehouse.config import PadPaths, pad_paths
from warehouse.database_files import copy_database, remove_database


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
    remove_database(target)  # with the WAL a killed run may leave: load_raw refuses a target with one
    result = load_raw(paths.raw, out=target, paths=paths)
    return StepOutcome(rows=result.total_rows, profile=result.report.phases.slowest())


def baseline_load(paths: PadPaths, clients: int, seed: int) -> int:
    """Plain DuckDB: auto-detected read_csv of each file into a table, no checks."""
    import duckdb

    from warehouse.raw.schema import tables

    target = paths.build / "bench-baseline.duckdb"
    remove_database(target)
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
    import duckdb

    from warehouse.dbt_runner import build_marts

    loaded = paths.build / "bench-load.duckdb"
    if not loaded.exists():
        step_load(paths, clients, seed)
    target = paths.build / "bench-dbt.duckdb"
    copy_database(loaded, target)
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
    """Cold refresh end to end with training: no published warehouse, no model, no saved dbt
    parse."""
    for folder in (paths.models, paths.runs, paths.build, paths.dbt):
        shutil.rmtree(folder, ignore_errors=True)
    remove_database(paths.warehouse)
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
    from models_ml.monitoring.step import after_publish, prepare_monitoring
    from warehouse.dbt_runner import run_dbt

    if not paths.warehouse.exists():
        step_refresh_cold(paths, clients, seed)
    home = pad_paths(paths.home / "bench-monitor")
    shutil.rmtree(home.home, ignore_errors=True)
    shutil.copytree(paths.models, home.models)
    home.build.mkdir(parents=True)
    build = home.build / "monitor.duckdb"
    copy_database(paths.warehouse, build)
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
