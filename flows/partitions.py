"""The partitioned refresh (`pad refresh --partitions P [--dask local|ADDRESS]`, CONTRACTS §9).

Per-client work runs per bucket of clients (warehouse.buckets): the dbt marts (staging →
intermediate → marts with their tests) and the scoring with TreeSHAP explanations and reasons.
Each bucket is one Prefect task — in this process one after the other, or on a Dask cluster
through prefect-dask — that reads and writes Parquet files in the build folder and returns a
few numbers, never data. The flow gathers the buckets' tables into the build file, where the
global steps run unchanged on all clients: training (one model on every history client),
model tables, monitoring, recourse, the serving models (similar clients, distributions), publish.

A bucket task is retried (BUCKET_RETRIES) unless it failed on bad input or a failing data test;
a bucket that still fails fails the refresh, which then publishes nothing.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse import buckets
from warehouse.errors import BadInput, RunFailure

if TYPE_CHECKING:
    from flows.refresh import RefreshRun

BUCKET_RETRIES = 2
MART_SCHEMAS = ["staging", "intermediate", "marts"]   # views of the first two come along
ML_SCHEMA = "ml"


@dataclass(frozen=True)
class BucketJob:
    """What a bucket task needs (small and picklable: it travels to the Dask workers)."""

    build: Path                  # the refresh's build file; bucket files are next to it
    models: Path
    previous: Path | None = None  # the published warehouse, for reusing unchanged scores
    model_version: str | None = None


@dataclass(frozen=True)
class BucketDone:
    bucket: int
    clients: int
    seconds: float
    rescored: int = 0
    reused: int = 0


# --- the work of one bucket (runs on a worker) --------------------------------------------------

def marts_of_bucket(bucket: int, job: BucketJob) -> BucketDone:
    """dbt staging → marts (with tests) on the bucket's clients; tables exported to Parquet.
    The buckets a process builds share one parse of the dbt project."""
    from warehouse.dbt_runner import build_marts, shared_manifest

    started = time.perf_counter()
    parts = buckets.parts_folder(job.build)
    db = buckets.create_bucket_db(parts, bucket)
    dbt_dir = parts / "dbt" / f"bucket-{bucket}"
    build_marts(db, target_dir=dbt_dir / "target", log_dir=dbt_dir / "logs",
                manifest=shared_manifest(db, work_dir=parts / "dbt" / "parse"))
    buckets.export_tables(parts, bucket, MART_SCHEMAS)
    return BucketDone(bucket, mart_clients(db), time.perf_counter() - started)


def score_bucket(bucket: int, job: BucketJob) -> BucketDone:
    """Scores, TreeSHAP drivers, families and reasons of the bucket's clients; to Parquet."""
    from models_ml.pipeline import score_clients

    started = time.perf_counter()
    parts = buckets.parts_folder(job.build)
    scored = score_clients(buckets.bucket_db_path(parts, bucket), job.models,
                           previous_db=job.previous, model_version=job.model_version)
    buckets.export_tables(parts, bucket, [ML_SCHEMA])
    return BucketDone(bucket, scored.clients, time.perf_counter() - started,
                      scored.rescored, scored.reused)


def mart_clients(db: Path) -> int:
    """Clients in marts.client_features of a DuckDB file."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("select count(*) from marts.client_features").fetchone()[0])
    finally:
        con.close()


# --- fan-out ------------------------------------------------------------------------------------

def _retryable(task, task_run, state) -> bool:
    """Retry a bucket unless the data itself is wrong (bad input, a failing dbt data test):
    those fail the same way every time."""
    try:
        state.result()
    except BadInput:
        return False
    except RunFailure as exc:
        return ": test." not in str(exc)
    except BaseException:  # noqa: BLE001 - a lost worker, an I/O error, a corrupt bucket file
        return True
    return False


def run_buckets(work: Callable[[int, BucketJob], BucketDone], label: str, partitions: int,
                job: BucketJob, on_dask: bool) -> list[BucketDone]:
    """`work` for every bucket as a Prefect task: submitted to the flow's Dask task runner, or
    called one after the other in this process."""
    from prefect import task, unmapped
    from prefect.cache_policies import NO_CACHE

    bucket_task = task(work, name=label, task_run_name=label + " {bucket}",
                       cache_policy=NO_CACHE, retries=BUCKET_RETRIES, retry_delay_seconds=1,
                       retry_condition_fn=_retryable)
    if not on_dask:
        return [bucket_task(bucket, job) for bucket in range(partitions)]
    futures = bucket_task.map(range(partitions), unmapped(job))
    return [future.result() for future in futures]


def _spread(done: list[BucketDone]) -> str:
    seconds = sorted(d.seconds for d in done)
    return (f"{len(done)} buckets, {min(d.clients for d in done):,}–"
            f"{max(d.clients for d in done):,} clients, {seconds[0]:.1f}–{seconds[-1]:.1f}s each")


# --- the partitioned steps (run in the flow, they submit the bucket tasks) ----------------------

def marts_in_buckets(state: RefreshRun) -> str:
    plan = state.plan
    buckets.split_raw(plan.build, plan.partitions)
    done = run_buckets(marts_of_bucket, "dbt marts bucket", plan.partitions,
                       BucketJob(plan.build, plan.paths.models), plan.dask is not None)
    buckets.gather_tables(plan.build, plan.partitions, MART_SCHEMAS, with_views=True)
    state.record.clients = sum(d.clients for d in done)
    return f"dbt built and tested the marts of {state.record.clients:,} clients in {_spread(done)}"


def score_in_buckets(state: RefreshRun, model_version: str | None) -> str:
    """Score every bucket with `model_version` (None = the champion), gather, then the model
    tables (global)."""
    from models_ml.pipeline import ScoreResult, champion_record, write_model_tables

    plan, started = state.plan, time.perf_counter()
    champion = champion_record(plan.paths.models)
    version = model_version or (champion.version if champion else None)
    if version is None:
        raise RunFailure(f"{plan.paths.models}: no champion model; train one first "
                         "(pad refresh --retrain)")
    previous = plan.paths.warehouse if plan.paths.warehouse.exists() else None
    done = run_buckets(score_bucket, "score bucket", plan.partitions,
                       BucketJob(plan.build, plan.paths.models, previous, version),
                       plan.dask is not None)
    buckets.gather_tables(plan.build, plan.partitions, [ML_SCHEMA])
    buckets.remove_parts(plan.build)  # everything is gathered: free the disk now
    write_model_tables(plan.build, plan.paths.models, champion_version=version)
    state.scored = ScoreResult(version, sum(d.clients for d in done),
                               sum(d.rescored for d in done), sum(d.reused for d in done),
                               time.perf_counter() - started)
    state.record.model_version = version
    return (f"scored {state.scored.clients:,} clients with {version} "
            f"({state.scored.rescored:,} computed, {state.scored.reused:,} unchanged and reused) "
            f"in {_spread(done)}")


# --- the Dask cluster ---------------------------------------------------------------------------

def dask_flow_options(address: str | None, workers: int) -> dict[str, Any]:
    """The refresh flow's options: prefect-dask's task runner when the buckets run on Dask."""
    return {} if address is None else {"task_runner": dask_task_runner(address, workers)}


def dask_task_runner(address: str, workers: int) -> Any:
    """prefect-dask's runner: `local` = a LocalCluster of `workers` processes pinned to one
    thread each (DuckDB, LightGBM and TreeSHAP too: PAD_THREADS=1); else the scheduler at
    `address` (its workers need this package installed and PAD_HOME on shared storage)."""
    from flows.config import dask_settings

    dask_settings()
    from prefect_dask import DaskTaskRunner

    if address != "local":
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                        "dashboard_address": None, "env": {"PAD_THREADS": "1"}})


@contextmanager
def api_for_workers(address: str | None) -> Iterator[None]:
    """Bucket tasks report to the Prefect API from the workers' processes: export this run's
    API URL to them, starting one temporary server when there is none (else every worker
    would start its own). The server is Prefect's own singleton: it stays up for the next run
    of this process and stops when the process exits."""
    import os

    if address is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = PREFECT_API_URL.value()
    if not url:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start()
        url = server.api_url
    saved = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            yield
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved
