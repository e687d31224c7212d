"""`pad bench --steps scale`: the partitioned refresh on a local Dask cluster whose workers are
pinned to one thread each, at 1 and 2 workers (issue 15).

Each configuration refreshes the bench's raw files into a PAD_HOME holding only the champion
(models/, trained by a one-machine refresh first when there is none), so every run scores with
the same model and does not train. A sampler thread reads, every 0.2 s, the resident memory
(psutil) of every Dask worker process (the spawned children of this process) and of this
process (the flow: load, gather and the global steps), and every second the disk the run's
build folder holds (build file, DuckDB temp files, bucket parts). Reported: the refresh's wall
time, the bucket steps' wall time (dbt marts + score), clients per worker-hour (clients /
(workers x wall hours) of the whole refresh), peak RSS per worker (the largest of the
workers), and per step the peaks of the flow process, the workers and the build folder (steps
placed on the samples' time line from their recorded durations, the last ending when the
refresh returned).
"""
from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from warehouse.config import PadPaths, pad_paths

SAMPLE_SECONDS = 0.2
DISK_EVERY = 5                 # samples between two sizes of the build folder (1 s)
WORKER_COUNTS = (1, 2)


@dataclass(frozen=True)
class Sample:
    at: float                  # time.perf_counter()
    flow_mb: float
    worker_mb: float           # the largest worker at that moment
    build_mb: float            # the build folder's files (the last size read)


@dataclass(frozen=True)
class StepPeak:
    step: str
    seconds: float
    flow_mb: float
    worker_mb: float
    build_mb: float


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
    peaks: tuple[StepPeak, ...] = ()

    @property
    def clients_per_worker_hour(self) -> float:
        return self.clients / (self.workers * self.seconds / 3600)


class RssSampler:
    """Peak RSS per Dask worker process and of this process, and the size of `build`, sampled
    in a thread; `timeline` keeps every sample."""

    def __init__(self, build: Path | None = None) -> None:
        self.me = psutil.Process()
        self.build = build
        self.workers: dict[int, float] = {}
        self.own = 0.0
        self.timeline: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:  # noqa: PYI034 - a final class
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        build_mb, count = 0.0, 0
        while not self._stop.is_set():
            own = self.me.memory_info().rss / 2**20
            self.own = max(self.own, own)
            now = self._sample_workers()
            if self.build is not None and count % DISK_EVERY == 0:
                build_mb = folder_mb(self.build)
            count += 1
            self.timeline.append(Sample(time.perf_counter(), own, max(now, default=0.0),
                                        build_mb))
            self._stop.wait(SAMPLE_SECONDS)

    def _sample_workers(self) -> list[float]:
        now = []
        for child in self.me.children(recursive=True):
            try:
                if "spawn_main" in " ".join(child.cmdline()):  # a Dask worker process
                    rss = child.memory_info().rss / 2**20
                    self.workers[child.pid] = max(self.workers.get(child.pid, 0.0), rss)
                    now.append(rss)
            except psutil.Error:
                continue
        return now


def folder_mb(folder: Path) -> float:
    """The size of the files under `folder` (files vanishing meanwhile are skipped)."""
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
    return total / 2**20


def step_peaks(timeline: list[Sample], steps: dict[str, float], ended: float) -> list[StepPeak]:
    """Each step's peaks: the steps ran one after the other (in `steps`' order) and the last
    ended at `ended`, so each covers the samples of its recorded duration."""
    peaks, end = [], ended
    for name, seconds in reversed(steps.items()):
        inside = [s for s in timeline if end - seconds <= s.at <= end]
        peaks.append(StepPeak(name, seconds, max((s.flow_mb for s in inside), default=0.0),
                              max((s.worker_mb for s in inside), default=0.0),
                              max((s.build_mb for s in inside), default=0.0)))
        end -= seconds
    return peaks[::-1]


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

    home = _champion_home(root, root.home / f"scale-w{workers}-p{partitions}")
    started = time.perf_counter()
    with RssSampler(home.build) as sampler:
        try:
            run_refresh(raw=root.raw, retrain=False, paths=home, partitions=partitions,
                        dask="local", workers=workers)
        except BaseException:
            # what the failed run reached: its completed steps' peaks, then the failure
            ended = time.perf_counter()
            run = _scale_run(home, workers, partitions, ended - started, sampler, ended)
            print("\n".join(render_peaks([run])), file=sys.stderr, flush=True)
            raise
        ended = time.perf_counter()
    run = _scale_run(home, workers, partitions, ended - started, sampler, ended)
    shutil.rmtree(home.home, ignore_errors=True)
    return run


def _newest_record(home: PadPaths) -> dict:
    records = [json.loads(path.read_text()) for path in home.runs.glob("*.json")]
    return max(records, key=lambda r: r["started_at"], default={})


def _scale_run(home: PadPaths, workers: int, partitions: int, seconds: float,
               sampler: RssSampler, ended: float) -> ScaleRun:
    record = _newest_record(home)
    steps = {k[8:]: float(v) for k, v in record.items()
             if k.startswith("seconds_") and v and k != "seconds_total"}
    return ScaleRun(workers, partitions, int(record.get("clients") or 0), seconds,
                    steps.get("dbt_marts", 0.0) + steps.get("score", 0.0),
                    max(sampler.workers.values(), default=0.0), sampler.own, steps,
                    tuple(step_peaks(sampler.timeline, steps, ended)))


def render(runs: list[ScaleRun]) -> str:
    lines = [("| workers x 1 thread | partitions | clients | refresh s | bucket steps s | "
              "clients / worker-hour | peak RSS per worker (MiB) | flow process peak RSS (MiB) "
              "| steps (s) |"), "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in runs:
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r.steps.items())
        lines.append(f"| {r.workers} | {r.partitions} | {r.clients:,} | {r.seconds:.0f} | "
                     f"{r.bucket_seconds:.0f} | {r.clients_per_worker_hour:,.0f} | "
                     f"{r.worker_peak_mb:,.0f} | {r.flow_peak_mb:,.0f} | {steps} |")
    return "\n".join(lines + ["", *render_peaks(runs)])


def render_peaks(runs: list[ScaleRun]) -> list[str]:
    """Per run and step: seconds, peak RSS of the flow process and of a worker, and the
    largest size of the build folder (MiB)."""
    lines = [("| workers | partitions | step | s | flow RSS (MiB) | worker RSS (MiB) "
              "| build folder (MiB) |"), "|---:|---:|---|---:|---:|---:|---:|"]
    for r in runs:
        lines += [f"| {r.workers} | {r.partitions} | {p.step} | {p.seconds:.0f} | "
                  f"{p.flow_mb:,.0f} | {p.worker_mb:,.0f} | {p.build_mb:,.0f} |"
                  for p in r.peaks]
    return lines


def run_scale(root: PadPaths, partitions: list[int], workers: list[int] | None = None) -> str:
    """Every (workers, partitions) configuration once; returns the table."""
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
                  f"{runs[-1].seconds:.0f}s\n{render(runs[-1:])}", file=sys.stderr, flush=True)
    return render(runs)
