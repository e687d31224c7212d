"""`pad bench --steps decisions`: decisions written per second and the latency of
`POST /clients/{id}/decisions` at 8 concurrent writers, on SQLite and on PostgreSQL.

The real API (`dashboard.bench.run_api`, what `pad api` serves) in a child process over the
published warehouse, each backend starting empty: SQLite in a temporary folder, PostgreSQL a
throwaway server (Debian's binaries, fsync on as in production). Every request records an
'issued' decision for a random client; afterwards the chain must be whole and hold every
acknowledged entry.
"""
from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dashboard.bench import hammer, run_api, sample_client_ids
from warehouse.decisions import DecisionStore
from warehouse.decisions.throwaway_pg import throwaway_postgres

ADVISOR = ("bench", "bench-advisor-token")
WARM_UP = 40


@contextmanager
def store_url(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pad-bench-decisions-") as tmp:
            yield f"sqlite:///{tmp}/decisions.sqlite"
    else:
        with throwaway_postgres(durable=True) as server:
            yield server.url


def measure_decisions(warehouse: Path, backend: str, concurrency: int = 8,
                      writes: int = 800, seed: int = 0) -> dict[str, Any]:
    """One backend: `writes` POSTs from `concurrency` writers after a warm-up."""
    ids = sample_client_ids(warehouse, writes + WARM_UP, seed)
    paths = [f"/clients/{cid}/decisions" for cid in ids]
    random.Random(seed).shuffle(paths)
    body = json.dumps({"kind": "issued"}).encode()
    headers = {"Authorization": f"Bearer {ADVISOR[1]}", "Content-Type": "application/json"}
    with store_url(backend) as url:
        env = {"PAD_DECISIONS_URL": url, "PAD_ADVISOR_TOKENS": f"{ADVISOR[0]}:{ADVISOR[1]}"}
        with run_api(warehouse, env=env) as base:
            hammer(base, paths[:WARM_UP], 2, 60, "POST", body, headers, ok=201)
            result = hammer(base, paths[WARM_UP:], concurrency, 600, "POST", body, headers,
                            ok=201)
        store = DecisionStore(url, read_only=True)
        try:
            check = store.verify()
        finally:
            store.close()
    result["chain_valid"] = check.valid
    result["entries"] = check.entries
    result["lost"] = WARM_UP + result["requests"] - result["errors"] - check.entries
    return result


def note(backend: str, r: dict[str, Any]) -> str:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
    chain = "chain valid" if r["chain_valid"] else "CHAIN BROKEN"
    return (f"{label}: {r['rps']:.0f} decisions/s, p50 {r['p50_ms']:.1f} ms, p99 "
            f"{r['p99_ms']:.1f} ms, {r['errors']} errors, {r['lost']} lost, {chain}")
