"""The one place that reads the environment for runtime paths (CONTRACTS §1).

Every other module takes paths as arguments; commands build a `PadPaths` once and pass it down.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from warehouse.errors import BadInput

T = TypeVar("T", int, float)

DBT_PROJECT_DIR = Path(__file__).resolve().parent
REPO_ROOT = DBT_PROJECT_DIR.parent


@dataclass(frozen=True)
class PadPaths:
    """The PAD_HOME layout."""

    home: Path

    @property
    def raw(self) -> Path:
        return self.home / "raw"

    @property
    def build(self) -> Path:
        return self.home / "build"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def runs(self) -> Path:
        return self.home / "runs"

    @property
    def history(self) -> Path:
        return self.home / "history"

    @property
    def alerts(self) -> Path:
        return self.home / "alerts"

    @property
    def prefect(self) -> Path:
        return self.home / "prefect"

    @property
    def dbt(self) -> Path:
        """dbt's target and logs of the builds run for this home (not the project's folder:
        an installed package may be read-only, and two homes must not share them)."""
        return self.home / "dbt"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"


def pad_paths(home: str | os.PathLike[str] | None = None) -> PadPaths:
    """Paths under PAD_HOME (env var, default ./data relative to the working directory)."""
    chosen = home if home is not None else os.environ.get("PAD_HOME", "data")
    return PadPaths(Path(chosen).resolve())


def alert_webhook() -> str | None:
    """URL every alert is POSTed to as JSON (PAD_ALERT_WEBHOOK, unset = none)."""
    return os.environ.get("PAD_ALERT_WEBHOOK") or None


def env_int(name: str, default: int, minimum: int = 1,
            env: Mapping[str, str] | None = None) -> int:
    """A whole-number setting from the environment (or `env`): `default` when unset or blank,
    else a one-line BadInput naming the variable when it is not a whole number >= `minimum`."""
    return _env_number(name, default, minimum, env, int, "an integer")


def env_float(name: str, default: float, minimum: float,
              env: Mapping[str, str] | None = None) -> float:
    """As env_int, for a finite number >= `minimum`."""
    return _env_number(name, default, minimum, env, float, "a number")


def _env_number(name: str, default: T, minimum: T, env: Mapping[str, str] | None,
                parse: Callable[[str], T], kind: str) -> T:
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BadInput(f"environment variable {name}={raw!r} is not {kind}")
    if value < minimum:
        raise BadInput(f"environment variable {name}={raw!r} must be at least {minimum}")
    return value


def duckdb_threads(env: Mapping[str, str] | None = None) -> int:
    """Threads DuckDB may use (PAD_THREADS, default: all cores)."""
    return env_int("PAD_THREADS", os.cpu_count() or 2, env=env)


def duckdb_memory_limit() -> str:
    """DuckDB memory limit (PAD_MEMORY_LIMIT, default 6GB so the 8 GB RSS target holds; 2GB ran
    out of memory at full scale: the ~250-aggregate hash tables of two models at once cannot
    spill enough)."""
    return os.environ.get("PAD_MEMORY_LIMIT", "6GB")


def marts_memory_limit() -> str:
    """DuckDB memory limit of the marts build (PAD_MARTS_MEMORY_LIMIT, default 2600MB: with
    its widest aggregations split into pass tables and client_features written by one
    statement that streams its widest side, the full-scale marts build fits (client_features
    ran out of memory at 2200MB inside dbt); the process peaks about 0.3-0.4 GB above it: 2.7-2.9
    GiB two models at a time (README "Ninth measurement")."""
    return os.environ.get("PAD_MARTS_MEMORY_LIMIT", "2600MB")


def marts_dbt_threads() -> int:
    """dbt models the marts build runs side by side (PAD_MARTS_DBT_THREADS, default 2). One
    node alone keeps the 2 cores busy 1.4-1.95 of 2; two fill the gaps (full scale, 6
    interleaved pairs: 48.7 s against 55.1 s, peak 2.82 GB against 2.75 GB; README "Eighth
    measurement"). 1 when a portfolio's marts need the whole memory limit for one model."""
    return env_int("PAD_MARTS_DBT_THREADS", 2)
