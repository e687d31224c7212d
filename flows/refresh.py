"""`pad refresh`: the refresh flow (Prefect) — validate, load, dbt build of the marts, train (when
asked or when there is no champion), score and explain, dbt build of serving, publish.

The flow is the list `refresh_steps()`: each step is a plain function of the run's state that
returns its progress line, run as a Prefect task; a new step is one more `Step(...)` in that
list (and, if its time should show in `serving.refresh_runs`, one more name in
flows.runs.STEPS). Everything is written to a private build file under PAD_HOME/build/ and
published by an atomic rename at the very end, with the champion pointer moved right after, so
readers never see a partial state and a failed or killed run leaves the published warehouse
and the champion untouched. Only I/O steps retry; a failing data test is never retried. Inputs
that did not change since the last published run are not rebuilt.

Failures: bad input exits 2 with one line and no traceback (Prefect's console logs about it
are filtered, flows.config); a run stopped by SIGINT/SIGTERM is recorded as failed; a run
killed outright (SIGKILL, power loss) is recorded as failed by the next run, which holds the
lock and so knows it is dead.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flows.config import (
    bad_input_off_prefect_console,
    configure_prefect,
    quiet_bad_input_on_prefect_console,
)
from flows.decisions_copy import LogHead, check_log, copied_head, refresh_log_copy
from flows.partitions import api_for_workers, dask_flow_options, mart_clients
from flows.processes import stop_message, stop_signal_raises
from flows.publish import (
    Publication,
    check_fresh_build,
    clean_stale_builds,
    fingerprint_inputs,
    new_build_path,
    publish,
    reconcile_champion,
    refresh_lock,
    remove_build,
)
from flows.runs import (
    KILLED_MESSAGE,
    RunRecord,
    StepTimer,
    fail_abandoned_runs,
    finish_record,
    last_published,
    new_run_id,
    write_record,
)
from warehouse.config import PadPaths
from warehouse.errors import BadInput

if TYPE_CHECKING:
    from models_ml.pipeline import ScoreResult, TrainResult

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
    partitions: int = 1          # > 1: per-client steps run per bucket (flows.partitions)
    dask: str | None = None      # 'local' or a scheduler address: the buckets run on Dask
    workers: int = 1             # processes of a local Dask cluster

    @property
    def partitioned(self) -> bool:
        return self.partitions > 1 or self.dask is not None


@dataclass
class RefreshRun:
    """What the steps share: the plan, the run record, and what earlier steps produced."""

    plan: RefreshPlan
    record: RunRecord
    trained: TrainResult | None = None
    scored: ScoreResult | None = None


@dataclass(frozen=True)
class Step:
    """One step of the flow: `run(state) -> progress line`, timed as seconds_<name>."""

    name: str
    label: str                                   # the Prefect task name
    run: Callable[[RefreshRun], str]
    needed: Callable[[RefreshRun], bool] = lambda state: True
    task_options: dict = field(default_factory=dict)
    # True: the step runs in the flow itself and submits its own tasks (the per-bucket steps)
    in_flow: Callable[[RefreshRun], bool] = lambda state: False


# --- the steps ----------------------------------------------------------------------------------

def validate_load(state: RefreshRun) -> str:
    from warehouse.raw.load import load_into

    result = load_into(state.plan.build, state.plan.raw, work_dir=state.plan.paths.build)
    check_fresh_build(state.plan.build)
    state.record.rows_loaded = sum(result.rows.values())
    return f"validated and loaded {state.record.rows_loaded:,} rows"


def dbt_marts(state: RefreshRun) -> str:
    from warehouse.dbt_runner import build_marts, shared_manifest

    if state.plan.partitioned:
        from flows.partitions import marts_in_buckets

        return marts_in_buckets(state)

    nodes = len(build_marts(state.plan.build, manifest=shared_manifest(state.plan.build)).nodes)
    state.record.clients = mart_clients(state.plan.build)
    return f"dbt built and tested {nodes} nodes ({state.record.clients:,} clients)"


def needs_training(state: RefreshRun) -> bool:
    return state.plan.retrain or champion_version(state.plan.paths) is None


def train(state: RefreshRun) -> str:
    from models_ml.pipeline import train_model

    trained = state.trained = train_model(state.plan.build, state.plan.paths.models)
    state.record.retrained = True
    return (f"trained {trained.model_version}: OOF AUC {trained.metrics['oof_auc']:.4f}, "
            f"{trained.n_features} features, {trained.n_trees} trees; {trained.guard_message}")


def score(state: RefreshRun) -> str:
    """Score with this run's model: the retrained version if it passed the guard, else the
    champion. It becomes the champion only when this warehouse is published."""
    from models_ml.pipeline import score_clients, write_model_tables

    paths = state.plan.paths
    previous = paths.warehouse if paths.warehouse.exists() else None
    version = state.trained.scoring_version if state.trained else None
    if state.plan.partitioned:
        from flows.partitions import score_in_buckets

        return score_in_buckets(state, version)
    scored = state.scored = score_clients(state.plan.build, paths.models,
                                          previous_db=previous, model_version=version)
    write_model_tables(state.plan.build, paths.models, champion_version=scored.model_version)
    state.record.model_version = scored.model_version
    return (f"scored {scored.clients:,} clients with {scored.model_version} "
            f"({scored.rescored:,} computed, {scored.reused:,} unchanged and reused)")


def monitor(state: RefreshRun) -> str:
    """Monitoring inputs (ml.monitor_*) for the dbt monitoring models: drift values, out-of-fold
    bands, fairness, back-test (models_ml.monitoring)."""
    from models_ml.monitoring.step import prepare_monitoring

    return prepare_monitoring(state.plan.build, state.plan.paths, state.record.run_id).render()


def recourse(state: RefreshRun) -> str:
    """Publish the what-if model (the one that scored) and the recourse options of every
    refused pending client (models_ml.whatif_refresh)."""
    from models_ml.whatif_refresh import publish_whatif

    found = publish_whatif(state.plan.build, state.plan.paths.models,
                           model_version=state.record.model_version)
    return (f"recourse: {found.options:,} options for {found.with_options:,} of "
            f"{found.refused_pending:,} refused pending clients")


def dbt_serving(state: RefreshRun) -> str:
    from warehouse.dbt_runner import build_serving, shared_manifest

    # the parse the marts build made (in-process), or one for both when the marts were built
    # in buckets
    run = build_serving(state.plan.build, manifest=shared_manifest(state.plan.build))
    return f"dbt built and tested {len(run.nodes)} serving nodes"


def publish_build(state: RefreshRun) -> str:
    paths, record = state.plan.paths, state.record
    reason = (state.trained.guard_message if state.trained
              and state.trained.scoring_version == state.trained.model_version
              else "champion kept")
    publish(state.plan.build, paths, Publication(record.run_id, record.model_version, reason))
    record.published = True
    return f"published {paths.warehouse} (champion {record.model_version})"


def record_history(state: RefreshRun) -> str:
    """PAD_HOME/history/<run> and the alerts for the published flags. The warehouse is already
    published, so a failure here is an alert, not a failed refresh."""
    from models_ml.monitoring.step import after_publish
    from warehouse.alerts import raise_alert

    paths, run_id = state.plan.paths, state.record.run_id
    try:
        alerts = after_publish(paths, run_id)
    except Exception as exc:  # noqa: BLE001 - reported as an alert, the publish stands
        raise_alert(paths, "monitoring_failed", f"history/alerts of run {run_id} not recorded: "
                    f"{exc}", severity="critical", refresh_run_id=run_id)
        return f"monitoring history NOT recorded: {exc}"
    return f"history recorded, {len(alerts)} alert(s) raised" + "".join(
        f"\n  alert: {a.name}" for a in alerts)


def _only_io_errors(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except BaseException:  # noqa: BLE001 - anything else (bad data, failed tests) is final
        return False
    return False


def _partitioned(state: RefreshRun) -> bool:
    return state.plan.partitioned


def refresh_steps() -> list[Step]:
    """The flow, in order (extend here)."""
    return [
        Step("validate_load", "validate + load", validate_load),
        Step("dbt_marts", "dbt build marts", dbt_marts, in_flow=_partitioned),
        Step("train", "train", train, needed=needs_training),
        Step("score", "score + explain", score, in_flow=_partitioned),
        Step("monitor", "monitor", monitor),
        Step("recourse", "what-if + recourse", recourse),
        Step("dbt_serving", "dbt build serving", dbt_serving),
        Step("publish", "publish", publish_build,
             task_options={"retries": 2, "retry_delay_seconds": 1,
                           "retry_condition_fn": _only_io_errors}),
        Step("history", "history + alerts", record_history),
    ]


# --- the flow -----------------------------------------------------------------------------------

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


def _as_task(step: Step, state: RefreshRun):
    """The step as a Prefect task over the shared state (captured, not passed: Prefect would
    copy parameters, and the state must not be hashed for caching)."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    def run_step() -> str:
        return step.run(state)

    return task(run_step, name=step.label, cache_policy=NO_CACHE, **step.task_options)


def _refresh_flow(state: RefreshRun) -> RunRecord:
    from prefect import flow
    from prefect.artifacts import create_markdown_artifact

    record = state.record

    @flow(name="pad-refresh", log_prints=False, validate_parameters=False,
          **dask_flow_options(state.plan.dask, state.plan.workers))
    def refresh() -> RunRecord:
        quiet_bad_input_on_prefect_console()
        timed = StepTimer(record)
        with stop_signal_raises():  # over the SIGTERM bridge Prefect installed for this run
            for step in refresh_steps():
                if not step.needed(state):
                    continue
                with timed(step.name):
                    message = (step.run(state) if step.in_flow(state)
                               else _as_task(step, state)())
                say(f"{message} in {record.seconds[step.name]:.1f}s")
        record.status = "success"
        create_markdown_artifact(key="refresh-summary", markdown=_summary(record),
                                 description=f"pad refresh {record.run_id}")
        return record

    return refresh()


def _ensure_alert_store(paths: PadPaths) -> None:
    from warehouse.alerts import ensure_alert_store

    ensure_alert_store(paths)


def _alert_failed_refresh(paths: PadPaths, run_id: str, message: str) -> None:
    from warehouse.alerts import raise_alert

    raise_alert(paths, "refresh_failed", f"refresh {run_id} failed: {message}",
                severity="critical", refresh_run_id=run_id)


def _skip_unchanged(paths: PadPaths, record: RunRecord, retrain: bool,
                    log_before: LogHead | None) -> bool:
    """Finish the run at once when the inputs and the champion are those last published
    (serving.decisions still follows the decision log: republished when the log moved)."""
    previous = last_published(paths)
    if previous is None or retrain or previous.get("fingerprint") != record.fingerprint \
            or previous.get("model_version") != champion_version(paths):
        return False
    record.model_version = previous.get("model_version")
    record.clients = previous.get("clients")
    record.published = refresh_log_copy(paths, record.run_id)
    check_log(paths, record.run_id, log_before)
    finish_record(paths, record, "success",
                  f"inputs unchanged since run {previous['run_id']}: nothing recomputed"
                  + ("; decision log copied and republished" if record.published
                     else ", the published warehouse is current"))
    say(record.message)
    return True


def repair_after_killed_runs(paths: PadPaths, message: str = KILLED_MESSAGE) -> None:
    """What a run killed outright left behind (call with the lock held, so it is dead)."""
    for stale in clean_stale_builds(paths):
        say(f"removed {stale.name} left by an interrupted run")
    for run_id, recorded in fail_abandoned_runs(paths, message).items():
        say(f"run {run_id} was killed before it could record its end: marked failed")
        _alert_failed_refresh(paths, run_id, recorded)
    repaired = reconcile_champion(paths)
    if repaired:
        say(f"champion pointer repaired: {repaired} scored the published warehouse")


def check_settings() -> None:
    """Read now every setting a refresh reads on its way (threads, dbt threads, the training
    and monitoring settings): a bad one fails the run before anything is loaded, not after the
    load and the marts build."""
    from models_ml.config import load_config
    from models_ml.monitoring.config import fairness_min_group, monitored_features
    from warehouse.config import duckdb_threads, marts_dbt_threads

    for read in (duckdb_threads, marts_dbt_threads, load_config, fairness_min_group,
                 monitored_features):
        read()


def run_refresh(raw: Path, retrain: bool, paths: PadPaths, partitions: int = 1,
                dask: str | None = None, workers: int = 1) -> int:
    """One refresh run; returns the exit code (CONTRACTS §2) and prints a summary table.
    `partitions`, `dask`, `workers`: the partitioned refresh (flows.partitions)."""
    raw = Path(raw).resolve()
    if not raw.exists():
        raise BadInput(f"{raw}: no such file or folder")
    with refresh_lock(paths), stop_signal_raises():
        repair_after_killed_runs(paths)
        record = RunRecord(run_id=new_run_id(), raw=str(raw))
        record.fingerprint = fingerprint_inputs(raw)
        log_before = copied_head(paths.warehouse)  # to detect decisions removed since
        if _skip_unchanged(paths, record, retrain, log_before):
            print(_summary(record))
            return EXIT_OK
        write_record(paths, record)
        state = RefreshRun(RefreshPlan(raw=raw, build=new_build_path(paths),
                                       retrain=retrain, paths=paths, partitions=partitions,
                                       dask=dask, workers=workers), record)
        configure_prefect(paths)
        # dbt models that read PAD_HOME (serving.refresh_runs) must see this run's absolute home
        os.environ["PAD_HOME"] = str(paths.home)
        _ensure_alert_store(paths)  # serving.alerts reads PAD_HOME/alerts/*.json
        started = time.perf_counter()
        try:
            check_settings()  # recorded and alerted as a failed run, like any bad input
            with bad_input_off_prefect_console(), api_for_workers(state.plan.dask):
                _refresh_flow(state)
        except BaseException as exc:
            remove_build(state.plan.build)
            message = stop_message(exc) or " ".join(str(exc).split()) or type(exc).__name__
            finish_record(paths, record, "failed", message)
            _alert_failed_refresh(paths, record.run_id, message)
            if not isinstance(exc, BadInput):  # bad input: the error line says it all
                say(f"failed after {time.perf_counter() - started:.1f}s ({message}); "
                    f"{paths.warehouse.name} left untouched")
            raise
        check_log(paths, record.run_id, log_before)
        finish_record(paths, record, "success", record.message)
        print(_summary(record))
        return EXIT_OK
