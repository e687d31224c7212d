"""Where the time of a stage goes: named phases timed in-process (the load's checks, reads and
writes), reported slowest first by `pad bench --profile` together with dbt's per-node timings.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class PhaseTimes:
    """Seconds per phase name; a phase entered twice adds up (e.g. one read per file)."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def slowest(self, n: int | None = None) -> list[tuple[str, float]]:
        ordered = sorted(self.seconds.items(), key=lambda kv: kv[1], reverse=True)
        return ordered if n is None else ordered[:n]
