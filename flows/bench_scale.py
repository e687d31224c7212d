"""`pad bench --steps scale`: the partitioned refresh on a local Dask cluster whose workers are
pinned to one thread each, at 1 and 2 workers (issue 15).

Each configuration refreshes the bench's raw files into a PAD_HOME holding only the champion
(models/, trained by a one-machine refresh first when there is none), so every run scores with
the same model and does not train. A sampler thread reads, every 0.2 s, the resident memory
(psutil) of every Dask worker process (the spawned children of this process) and of this
process (the flow: load, gather and the global steps). Reported: the refresh's wall time, the
bucket steps' wall time (dbt marts + score), clients per worker-hour (clients / (workers x wall
hours) of the whole refresh), and peak RSS per worker (the largest of the workers).
"""
from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from warehouse.config import PadPaths, pad_paths

SAMPLE_SECONDS = 0.2
WORKER_COUNTS = (1, 2)


@dataclass(frozen=True)
class ScaleRun:
    workers: int
    partitions: int
    clients: int
    seconds: float
    bucket_seconds: float          # dbt marts + score (the steps that run per bucket)
    worker_peak_mb: float          # the largest peak RSS of one worker
    flow_peak_mb: float            # this process: load, gather, global steps
    steps: dict[str, float]

    @property
    def clients_per_worker_hour(self) -> float:
        return self.clients / (self.workers * self.seconds / 3600)


class RssSampler:
    """Peak RSS per Dask worker process and of this process, sampled in a thread."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.workers: dict[int, float] = {}
        self.own = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:  # noqa: PYI034 - a final class
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.own = max(self.own, self.me.memory_info().rss / 2**20)
            for child in self.me.children(recursive=True):
                try:
                    if "spawn_main" in " ".join(child.cmdline()):  # a Dask worker process
                        rss = child.memory_info().rss / 2**20
                        self.workers[child.pid] = max(self.workers.get(child.pid, 0.0), rss)
                except psutil.Error:
                    continue
            self._stop.wait(SAMPLE_SECONDS)


def _champion_home(root: PadPaths, target: Path) -> PadPaths:
    """A fresh PAD_HOME with the bench's champion only (it scores, it does not train)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(root.models, target / "models")
    return pad_paths(target)


def _ensure_champion(root: PadPaths) -> None:
    from flows.refresh import run_refresh
    from models_ml.pipeline import champion_record

    if champion_record(root.models) is None:
        run_refresh(raw=root.raw, retrain=True, paths=root)


def measure(root: PadPaths, workers: int, partitions: int) -> ScaleRun:
    from flows.refresh import run_refresh
    from flows.runs import last_published

    home = _champion_home(root, root.home / f"scale-w{workers}-p{partitions}")
    started = time.perf_counter()
    with RssSampler() as sampler:
        run_refresh(raw=root.raw, retrain=False, paths=home, partitions=partitions,
                    dask="local", workers=workers)
    seconds = time.perf_counter() - started
    record = last_published(home) or {}
    steps = {k[8:]: float(v) for k, v in record.items()
             if k.startswith("seconds_") and v and k != "seconds_total"}
    shutil.rmtree(home.home, ignore_errors=True)
    return ScaleRun(workers, partitions, int(record.get("clients") or 0), seconds,
                    steps.get("dbt_marts", 0.0) + steps.get("score", 0.0),
                    max(sampler.workers.values(), default=0.0), sampler.own, steps)


def render(runs: list[ScaleRun]) -> str:
    lines = [("| workers x 1 thread | partitions | clients | refresh s | bucket steps s | "
              "clients / worker-hour | peak RSS per worker (MB) | flow process peak RSS (MB) "
              "| steps (s) |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in runs:
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r.steps.items())
        lines.append(f"| {r.workers} | {r.partitions} | {r.clients:,} | {r.seconds:.0f} | "
                     f"{r.bucket_seconds:.0f} | {r.clients_per_worker_hour:,.0f} | "
                     f"{r.worker_peak_mb:,.0f} | {r.flow_peak_mb:,.0f} | {steps} |")
    return "\n".join(lines)


def run_scale(root: PadPaths, partitions: list[int], workers: list[int] | None = None) -> str:
    """Every (workers, partitions) configuration once; returns the table."""
    import sys

    from flows.config import configure_prefect

    # Prefect's state in the bench's home, which outlives the runs: the temporary API server
    # started by the first run serves the next ones (their homes are deleted after each run)
    configure_prefect(root)
    _ensure_champion(root)
    runs = []
    for parts in partitions:
        for count in workers or WORKER_COUNTS:
            runs.append(measure(root, count, parts))
            print(f"bench: scale {count} worker(s), {parts} partitions: "
                  f"{runs[-1].seconds:.0f}s", file=sys.stderr, flush=True)
    return render(runs)
