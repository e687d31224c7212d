"""Running the dbt project from Python: the API the refresh flow (and the tests) call.

Owns how dbt is invoked (programmatic `dbtRunner`, project and profile locations, the build
file it writes, threads), how its outcome is reported (per-node timings logged, warnings
returned, the first failing node raised as `RunFailure`) and the named selections (`marts`,
`serving`, defined in warehouse/selectors.yml). The profile (profiles.yml) sets
`keep_open: false`, so the DuckDB write lock is released when a call returns.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from warehouse.config import (
    DBT_PROJECT_DIR,
    REPO_ROOT,
    PadPaths,
    duckdb_memory_limit,
    duckdb_threads,
    marts_dbt_threads,
    marts_memory_limit,
    pad_paths,
)
from warehouse.database_files import copy_database, remove_database
from warehouse.errors import RunFailure

log = logging.getLogger(__name__)

FAILED_STATUSES = {"error", "fail", "runtime error"}
_PARSED: dict[tuple[Path, str, Path], object] = {}  # shared_manifest's parses, per process
PARSES_KEPT = 2  # a refresh's own and its buckets' (older ones serve no later refresh)


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    seconds: float
    message: str | None
    started: datetime | None = None  # first timing step (compile) began
    completed: datetime | None = None  # last timing step (execute) ended


@dataclass(frozen=True)
class DbtRun:
    """What one dbt invocation did: every node with its status and time."""

    command: list[str]
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def warnings(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]

    def slowest(self, n: int = 5) -> list[NodeResult]:
        return sorted(self.nodes, key=lambda node: node.seconds, reverse=True)[:n]

    @property
    def fixed_seconds(self) -> float:
        """The invocation's time outside its nodes (import, parse, connect, run_results):
        the wall time less the span from the first node's start to the last node's end."""
        starts = [n.started for n in self.nodes if n.started]
        ends = [n.completed for n in self.nodes if n.completed]
        if not starts or not ends:
            return self.seconds
        return max(self.seconds - (max(ends) - min(starts)).total_seconds(), 0.0)

    def profile(self) -> list[tuple[str, float]]:
        """(step, seconds) of every node plus dbt's fixed cost, slowest first."""
        steps = [(n.unique_id, n.seconds) for n in self.nodes]
        steps.append(("dbt fixed cost (start, parse, connect, outside nodes)", self.fixed_seconds))
        return sorted(steps, key=lambda kv: kv[1], reverse=True)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set env vars for the duration of one invocation (profiles.yml reads them), then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _node_results(result: object) -> list[NodeResult]:
    nodes = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        status = getattr(item, "status", "")
        timing = getattr(item, "timing", None) or []
        starts = [t.started_at for t in timing if getattr(t, "started_at", None)]
        ends = [t.completed_at for t in timing if getattr(t, "completed_at", None)]
        nodes.append(
            NodeResult(
                unique_id=getattr(node, "unique_id", "?"),
                status=str(getattr(status, "value", status)),
                seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
                message=getattr(item, "message", None),
                started=min(starts) if starts else None,
                completed=max(ends) if ends else None,
            )
        )
    return nodes


OUT_OF_MEMORY = "Out of Memory Error"


def _failure_message(command: Sequence[str], nodes: list[NodeResult], exception: object) -> str:
    failed = [n for n in nodes if n.status in FAILED_STATUSES]
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more failing nodes)" if len(failed) > 1 else ""
        detail = " ".join((first.message or first.status).split())
        return f"dbt {command[0]}: {first.unique_id}: {detail}{more}"
    if exception is not None:
        return f"dbt {command[0]}: {' '.join(str(exception).split())}"
    return f"dbt {command[0]} failed (see the dbt log)"


def _cli(args: Sequence[str], target_dir: Path | None, log_dir: Path | None,
         quiet: bool) -> list[str]:
    work = pad_paths().dbt
    cli = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(REPO_ROOT),
        "--target-path", str(target_dir or work / "target"),
        "--log-path", str(log_dir or work / "logs"),
    ]
    return ["--quiet", *cli] if quiet else cli


def _dbt_environment(db_path: Path, threads: int | None, dbt_threads: int | None = None,
                     memory_limit: str | None = None) -> dict[str, str]:
    return {
        # models may read PAD_HOME (e.g. the run log view); default as the CLI does
        "PAD_HOME": str(pad_paths().home),
        "PAD_DBT_PATH": str(Path(db_path).resolve()),
        "PAD_THREADS": str(threads or duckdb_threads()),
        # models dbt runs at once (profiles.yml); default: as many as DuckDB threads
        "PAD_DBT_THREADS": str(dbt_threads or threads or duckdb_threads()),
        "PAD_MEMORY_LIMIT": memory_limit or duckdb_memory_limit(),
    }


def _invoke(
    args: Sequence[str],
    db_path: Path,
    *,
    threads: int | None,
    target_dir: Path | None,
    log_dir: Path | None,
    quiet: bool,
    manifest: object | None = None,
    dbt_threads: int | None = None,
    memory_limit: str | None = None,
):
    """One dbtRunner invocation; with `manifest` (a parsed project) dbt skips its parse."""
    from dbt.cli.main import dbtRunner  # heavy import: only when dbt actually runs

    with _environment(_dbt_environment(db_path, threads, dbt_threads, memory_limit)):
        return dbtRunner(manifest=manifest).invoke(_cli(args, target_dir, log_dir, quiet))


def shared_manifest(database: Path, work_dir: Path | None = None) -> object:
    """The dbt project parsed once per process and home (dbt's `Manifest`), for invocations
    that would each parse the same, unchanged project: the marts and serving builds of a
    refresh, the buckets of a partitioned refresh (a full parse is 2–4 s at best on these
    machines, 10–30 s when they are busy). A Dask worker process parses once for all the
    buckets it builds. The parse itself is partial when the same database path was parsed last
    in the same target folder (a refresh's build file keeps its name, flows.publish). The
    profile (database path, threads, memory limit) is still read at every invocation; but dbt
    records the database's catalog (DuckDB: the file's stem) in the parsed nodes, so the
    manifest serves files named like `database` only. `work_dir`: where the parse writes its
    target and logs (default: $PAD_HOME/dbt, as the builds)."""
    work = work_dir or pad_paths().dbt
    key = (DBT_PROJECT_DIR, database.stem, work)
    if key not in _PARSED:
        outcome = _invoke(["parse"], database, threads=1, target_dir=work / "target",
                          log_dir=work / "logs", quiet=True)
        if not outcome.success:
            raise RunFailure(f"dbt parse: {outcome.exception or 'failed'}")
        while len(_PARSED) >= PARSES_KEPT:
            del _PARSED[next(iter(_PARSED))]  # the oldest: dicts keep insertion order
        _PARSED[key] = outcome.result
    return _PARSED[key]


def run_dbt(
    args: Sequence[str],
    db_path: Path,
    *,
    threads: int | None = None,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
    quiet: bool = True,
    manifest: object | None = None,
    dbt_threads: int | None = None,
    memory_limit: str | None = None,
) -> DbtRun:
    """Run one dbt command (e.g. ["build", "--selector", "marts"]) against the DuckDB file `db_path`.

    Logs each node's status and time; raises RunFailure naming the first failing node and its
    message. Warnings (e.g. relationship tests on orphans) do not fail the run; they are in
    the returned `DbtRun.warnings`. The DuckDB file is closed when this returns. `manifest`:
    a parsed project (`shared_manifest`) dbt runs without parsing again.
    """
    command = list(args)
    started = time.perf_counter()
    outcome = _invoke(command, db_path, threads=threads, target_dir=target_dir,
                      log_dir=log_dir, quiet=quiet, manifest=manifest,
                      dbt_threads=dbt_threads, memory_limit=memory_limit)
    run = DbtRun(command, time.perf_counter() - started, _node_results(outcome.result))
    for node in run.nodes:
        log.info("dbt %-12s %7.2fs  %s", node.status, node.seconds, node.unique_id)
    log.info("dbt %s: %d nodes in %.1fs", " ".join(command), len(run.nodes), run.seconds)
    stop = outcome.exception
    if isinstance(stop, BaseException) and not isinstance(stop, Exception):
        raise stop  # a stop signal dbt caught (Ctrl-C, a runner's SIGTERM) keeps unwinding
    if not outcome.success:
        raise RunFailure(_failure_message(command, run.nodes, outcome.exception))
    return run


def build_marts(
    db_path: Path, *, threads: int | None = None, full_checks: bool = False, **kwargs
) -> DbtRun:
    """Build and test staging → intermediate → marts on `db_path`.

    `full_checks` adds the tests tagged full_scan (the bureau_balance key and the orphan
    warnings on the big child tables, which the loader already checks or reports).
    Models run config.marts_dbt_threads at a time, under the marts' own memory limit
    (config.marts_memory_limit)."""
    selector = "marts_full_checks" if full_checks else "marts"
    kwargs.setdefault("dbt_threads", marts_dbt_threads())
    kwargs.setdefault("memory_limit", marts_memory_limit())
    try:
        return run_dbt(["build", "--selector", selector], db_path, threads=threads, **kwargs)
    except RunFailure as failure:
        advised = _with_memory_advice(str(failure), kwargs["memory_limit"])
        if advised is None:
            raise  # any other failure unchanged, with its own traceback
        raise RunFailure(advised) from None


def _with_memory_advice(message: str, limit: str) -> str | None:
    """DuckDB's own advice on running out of memory names its SQL settings; say which of the
    product's settings to change instead (the rest of the message is unchanged). None when
    `message` is not about memory."""
    head, found, _ = message.partition(OUT_OF_MEMORY)
    if not found:
        return None
    return (f"{head}{OUT_OF_MEMORY}: the marts build needs more than its DuckDB memory limit "
            f"of {limit}: raise PAD_MARTS_MEMORY_LIMIT, set PAD_MARTS_DBT_THREADS=1, or split "
            "the clients with `pad refresh --partitions P`")


def build_serving(db_path: Path, *, threads: int | None = None, **kwargs) -> DbtRun:
    """Build and test the serving schema (selector `serving`) once ml.* has been written."""
    return run_dbt(["build", "--selector", "serving"], db_path, threads=threads, **kwargs)


def generate_docs(
    db_path: Path, target_dir: Path, *, selector: str | None = None, **kwargs
) -> DbtRun:
    """`dbt docs generate` into `target_dir` (catalog.json, manifest.json, index.html).

    `selector` limits the nodes compiled (e.g. "marts" before ml.* exists)."""
    args = ["docs", "generate"] + (["--selector", selector] if selector else [])
    return run_dbt(args, db_path, target_dir=target_dir, **kwargs)


def compile_node_sql(model: str, db_path: Path, work_dir: Path) -> str:
    """The compiled SQL of one model (used to render feature_catalog without building)."""
    outcome = _invoke(
        ["--log-level", "none", "compile", "--select", model],
        db_path,
        threads=1,
        target_dir=work_dir / "target",
        log_dir=work_dir / "logs",
        quiet=True,
    )
    if not outcome.success:
        raise RunFailure(f"dbt compile {model}: {outcome.exception or 'failed'}")
    for item in outcome.result.results:
        if item.node.name == model:
            return item.node.compiled_code
    raise RunFailure(f"dbt compile: model {model} not found")


def docs_of_published(paths: PadPaths, target_dir: Path) -> Path:
    """The whole project's dbt docs (raw → marts → ml → serving, with the dashboard and API
    exposures) for the published warehouse; returns the self-contained static page.

    dbt opens its database read-write, so it works on a copy under build/: readers of the
    published file and a running refresh are never blocked.
    """
    if not paths.warehouse.exists():
        raise RunFailure(f"no warehouse published yet at {paths.warehouse} (run `pad refresh`)")
    paths.build.mkdir(parents=True, exist_ok=True)
    copy = paths.build / f"docs-{os.getpid()}.duckdb"
    try:
        copy_database(paths.warehouse, copy)
        run_dbt(["docs", "generate", "--static"], copy, target_dir=target_dir,
                log_dir=target_dir / "logs")
    finally:
        remove_database(copy)
    return target_dir / "static_index.html"


if __name__ == "__main__":  # `make docs`
    paths = pad_paths()
    page = docs_of_published(paths, paths.home / "docs")
    print(f"dbt docs: {page.resolve()}")
