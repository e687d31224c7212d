"""`pad refresh`: the refresh flow (Prefect) — validate, load, dbt build of the marts, train (when
asked or when there is no champion), score and explain, dbt build of serving, publish.

Tasks are thin wrappers around plain functions (warehouse.raw, warehouse.dbt_runner, models_ml,
flows.publish). Everything is written to a private build file under PAD_HOME/build/ and
published by an atomic rename at the very end, so readers never see a partial state and a failed
or killed run leaves the published warehouse untouched. Only I/O steps retry; a failing data test
is never retried. Inputs that did not change since the last published run are not rebuilt.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from flows.config import configure_prefect
from flows.decisions_copy import check_log, copied_head, refresh_log_copy
from flows.publish import (
    clean_stale_builds,
    fingerprint_inputs,
    new_build_path,
    publish,
    refresh_lock,
    remove_build,
)
from flows.runs import RunRecord, StepTimer, finish_record, last_published, new_run_id, write_record
from warehouse.config import PadPaths
from warehouse.errors import BadInput

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


def say(message: str) -> None:
    """Progress lines on stderr (stdout carries the summary table)."""
    print(f"refresh: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RefreshPlan:
    raw: Path
    build: Path
    retrain: bool
    paths: PadPaths


def _only_io_errors(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except BaseException:  # noqa: BLE001 - anything else (bad data, failed tests) is final
        return False
    return False


def _tasks():
    """Prefect task wrappers, created lazily so importing this module stays cheap."""
    from prefect import task

    @task(name="validate + load")
    def validate_load(plan: RefreshPlan) -> dict[str, int]:
        from warehouse.raw.load import load_into

        result = load_into(plan.build, plan.raw, work_dir=plan.paths.build)
        return result.rows

    @task(name="dbt build marts")
    def dbt_marts(plan: RefreshPlan) -> int:
        from warehouse.dbt_runner import build_marts

        run = build_marts(plan.build)
        return len(run.nodes)

    @task(name="train")
    def train(plan: RefreshPlan):
        from models_ml.pipeline import train_model

        return train_model(plan.build, plan.paths.models)

    @task(name="score + explain")
    def score(plan: RefreshPlan):
        from models_ml.pipeline import score_clients, write_model_tables

        previous = plan.paths.warehouse if plan.paths.warehouse.exists() else None
        result = score_clients(plan.build, plan.paths.models, previous_db=previous)
        write_model_tables(plan.build, plan.paths.models)
        return result

    @task(name="dbt build serving")
    def dbt_serving(plan: RefreshPlan) -> int:
        from warehouse.dbt_runner import build_serving

        return len(build_serving(plan.build).nodes)

    @task(name="publish", retries=2, retry_delay_seconds=1, retry_condition_fn=_only_io_errors)
    def publish_build(plan: RefreshPlan) -> float:
        return publish(plan.build, plan.paths)

    return validate_load, dbt_marts, train, score, dbt_serving, publish_build


def _summary(record: RunRecord) -> str:
    lines = ["| step | seconds |", "|---|---:|"]
    lines += [f"| {step} | {sec:.1f} |" for step, sec in record.seconds.items()]
    lines.append(f"| **total** | {sum(record.seconds.values()):.1f} |")
    facts = [f"status **{record.status}**", f"run `{record.run_id}`"]
    if record.rows_loaded is not None:
        facts.append(f"{record.rows_loaded:,} rows loaded")
    if record.clients is not None:
        facts.append(f"{record.clients:,} clients")
    if record.model_version:
        facts.append(f"model `{record.model_version}`")
    return " · ".join(facts) + "\n\n" + "\n".join(lines) + (
        f"\n\n{record.message}" if record.message else "")


def champion_version(paths: PadPaths) -> str | None:
    from models_ml.pipeline import champion_record

    record = champion_record(paths.models)
    return record.version if record else None


def _count_clients(db_path: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return int(con.execute("select count(*) from marts.client_features").fetchone()[0])
    finally:
        con.close()


def _refresh_flow(plan: RefreshPlan, record: RunRecord) -> RunRecord:
    from prefect import flow
    from prefect.artifacts import create_markdown_artifact

    validate_load, dbt_marts, train, score, dbt_serving, publish_build = _tasks()

    @flow(name="pad-refresh", log_prints=False, validate_parameters=False)
    def refresh() -> RunRecord:
        timed = StepTimer(record)
        with timed("validate_load"):
            rows = validate_load(plan)
        record.rows_loaded = sum(rows.values())
        say(f"validated and loaded {record.rows_loaded:,} rows "
            f"in {record.seconds['validate_load']:.1f}s")
        with timed("dbt_marts"):
            nodes = dbt_marts(plan)
        record.clients = _count_clients(plan.build)
        say(f"dbt built and tested {nodes} nodes ({record.clients:,} clients) "
            f"in {record.seconds['dbt_marts']:.1f}s")
        if plan.retrain or champion_version(plan.paths) is None:
            with timed("train"):
                trained = train(plan)
            record.retrained = True
            say(f"trained {trained.model_version}: OOF AUC {trained.metrics['oof_auc']:.4f}, "
                f"{trained.n_features} features, {trained.n_trees} trees "
                f"in {record.seconds['train']:.1f}s; {trained.guard_message}")
        with timed("score"):
            scored = score(plan)
        record.model_version = scored.model_version
        say(f"scored {scored.clients:,} clients with {scored.model_version} "
            f"({scored.rescored:,} computed, {scored.reused:,} unchanged and reused) "
            f"in {record.seconds['score']:.1f}s")
        with timed("dbt_serving"):
            nodes = dbt_serving(plan)
        say(f"dbt built and tested {nodes} serving nodes in {record.seconds['dbt_serving']:.1f}s")
        with timed("publish"):
            publish_build(plan)
        record.published = True
        say(f"published {plan.paths.warehouse} in {record.seconds['publish']:.1f}s")
        record.status = "success"
        create_markdown_artifact(key="refresh-summary", markdown=_summary(record),
                                 description=f"pad refresh {record.run_id}")
        return record

    return refresh()


def _ensure_alert_store(paths: PadPaths) -> None:
    from warehouse.alerts import ensure_alert_store

    ensure_alert_store(paths)


def _alert_failed_refresh(paths: PadPaths, record: RunRecord) -> None:
    from warehouse.alerts import raise_alert

    raise_alert(paths, "refresh_failed", f"refresh {record.run_id} failed: {record.message}",
                severity="critical", refresh_run_id=record.run_id)


def run_refresh(raw: Path, retrain: bool, paths: PadPaths) -> int:
    """One refresh run; returns the exit code (CONTRACTS §2) and prints a summary table."""
    raw = Path(raw).resolve()
    if not raw.exists():
        raise BadInput(f"{raw}: no such file or folder")
    with refresh_lock(paths):
        for stale in clean_stale_builds(paths):
            say(f"removed {stale.name} left by an interrupted run")
        run_id = new_run_id()
        record = RunRecord(run_id=run_id, raw=str(raw))
        record.fingerprint = fingerprint_inputs(raw)
        previous = last_published(paths)
        log_before = copied_head(paths.warehouse)   # to detect decisions removed since
        unchanged = (previous is not None and not retrain
                     and previous.get("fingerprint") == record.fingerprint
                     and previous.get("model_version") == champion_version(paths))
        if unchanged:
            record.model_version = previous.get("model_version")
            record.clients = previous.get("clients")
            # serving.decisions must follow the decision log even when the inputs do not
            record.published = refresh_log_copy(paths, run_id)
            check_log(paths, run_id, log_before)
            finish_record(paths, record, "success",
                          f"inputs unchanged since run {previous['run_id']}: nothing "
                          "recomputed" + ("; decision log copied and republished"
                                          if record.published else
                                          ", the published warehouse is current"))
            say(record.message)
            print(_summary(record))
            return EXIT_OK
        write_record(paths, record)
        plan = RefreshPlan(raw=raw, build=new_build_path(paths, run_id), retrain=retrain,
                           paths=paths)
        configure_prefect(paths)
        # dbt models that read PAD_HOME (serving.refresh_runs) must see this run's absolute home
        os.environ["PAD_HOME"] = str(paths.home)
        _ensure_alert_store(paths)  # serving.alerts reads PAD_HOME/alerts/*.json
        started = time.perf_counter()
        try:
            _refresh_flow(plan, record)
        except BaseException as exc:
            remove_build(plan.build)
            status_message = " ".join(str(exc).split()) or type(exc).__name__
            finish_record(paths, record, "failed", status_message)
            _alert_failed_refresh(paths, record)
            say(f"failed after {time.perf_counter() - started:.1f}s; "
                f"{paths.warehouse.name} left untouched")
            raise
        check_log(paths, run_id, log_before)
        finish_record(paths, record, "success", record.message)
        print(_summary(record))
        return EXIT_OK



