"""Benchmarks of what-if and recourse (`pad bench --steps whatif`).

- `measure_whatif`: the lookup API in a child process on the published warehouse;
  `concurrency` clients POST /clients/{id}/what-if for random clients (an income and
  employment edit), latency percentiles over the requests after a warm-up, and the server's
  CPU per request (the guard against regressions: unlike the latency, it hardly depends on
  what else the machine runs), and its resident memory at the end (the what-if state held per
  snapshot included). Target: p99 ≤ 150 ms at 8 concurrent clients.
- `measure_batch_recourse`: the refresh step that publishes the what-if model and searches the
  options of every refused pending client, run on a copy of the published warehouse (the
  published file is never written). Target: ≤ 60 s at full scale.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psutil

from dashboard.bench import hammer, run_api, sample_client_ids
from warehouse.database_files import copy_database

# an edit every client accepts (within the §6 bounds whatever the application)
EDIT = json.dumps({"edits": {"income": 150_000.0, "years_employed": 3.0}}).encode()


def measure_whatif(warehouse: Path, concurrency: int = 8, requests: int = 600,
                   warmup: int = 40, max_seconds: float = 180.0, seed: int = 0
                   ) -> dict[str, Any]:
    """What-if latency at `concurrency` concurrent clients (hammer's result + concurrency):
    random clients, each POSTing the same edit."""
    ids = sample_client_ids(warehouse, requests + warmup, seed=seed)
    paths = [f"/clients/{i}/what-if" for i in ids]
    post = {"method": "POST", "body": EDIT, "headers": {"Content-Type": "application/json"}}
    with run_api(warehouse) as base_url:
        hammer(base_url, paths[:warmup], min(concurrency, 8), max_seconds, **post)
        server = _server(base_url)
        cpu = _cpu_seconds(server)
        result = hammer(base_url, paths[warmup:], concurrency, max_seconds, **post)
        cpu = _cpu_seconds(server) - cpu
        rss = server.memory_info().rss
    # the server's CPU per request: what the latency would be without the machine's other
    # work, and the number to watch when a shared machine makes the latency noisy
    return {**result, "concurrency": concurrency,
            "cpu_ms_per_request": 1000 * cpu / max(1, int(result["requests"])),
            "server_rss_mb": rss / 2**20}


def _server(base_url: str) -> psutil.Process:
    """The API child process serving `base_url` (run_api passes the port as an argument)."""
    port = base_url.rsplit(":", 1)[1]
    for child in psutil.Process().children():
        if port in child.cmdline():
            return child
    raise RuntimeError(f"no child process serves {base_url}")


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def measure_batch_recourse(warehouse: Path, models: Path, work_dir: Path) -> dict[str, Any]:
    """The refresh's what-if + recourse step on a copy of the published warehouse."""
    from models_ml.whatif_refresh import publish_whatif

    work_dir.mkdir(parents=True, exist_ok=True)
    copy = work_dir / "bench-recourse.duckdb"
    copy_database(warehouse, copy)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        result = publish_whatif(copy, models)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        copy.unlink(missing_ok=True)
    # CPU seconds beside wall: on a shared machine the wall time says more about the neighbours
    return {"seconds": seconds, "cpu_seconds": cpu, "refused_pending": result.refused_pending,
            "with_options": result.with_options, "options": result.options}
