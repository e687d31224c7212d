"""Snapshots of the published warehouse: opening it read-only, following publishes, the cursor
pool, the per-snapshot memo, and the one-row-per-client tables held in memory.

Following publishes. A refresh publishes by atomically renaming a new file onto the published
path. Each request stats the path (a few microseconds); when device, inode, mtime or size changed
it opens the new file and retires the old snapshot, which is closed once its last in-flight
request ends. Holding the old file open never blocks the rename (POSIX rename does not care about
open descriptors), and a request never sees a half-written state: it reads one snapshot from
start to end.

Why ATTACH: `duckdb.connect(path)` reuses a process-wide instance cached by *path*, so after a
rename it would keep returning the old file while any connection to it is open. Each snapshot
is therefore its own in-memory DuckDB instance with the file attached read-only under the
catalog alias `published`; queries name tables as `published.serving.<table>`.

Every subject module of the lookup (and `dashboard.whatif_lookup`) works on one
`(Snapshot, cursor)` pair from `Snapshots.session()`: `Snapshot.cached` memoises what is loaded
once per published file, `require_client` and `client_row` answer 404 for unknown clients.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.blocks import BLOCK_CLIENTS
from dashboard.lookup.sql import (
    PUBLISHED,
    S,
    WarehouseUnavailable,
    clean,
    client_not_found,
    first_line,
)
from dashboard.schemas import ClientSummary

# the tables without which nothing can be served: checked when a snapshot opens
REQUIRED_TABLES = ("clients", "client_scores")
T = TypeVar("T")


@dataclass(frozen=True)
class FileKey:
    """Identity of one published file: a publish changes the inode (rename), a rewrite in
    place at least mtime or size."""

    device: int
    inode: int
    mtime_ns: int
    size: int


def stat_warehouse(path: Path) -> FileKey:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise WarehouseUnavailable(
            f"no warehouse published yet at {path} (run `pad refresh`)") from None
    return FileKey(st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass
class Snapshot:
    """One published file, open read-only, and what has been loaded from it."""

    key: FileKey
    con: duckdb.DuckDBPyConnection
    block_clients: int = BLOCK_CLIENTS
    cache: dict[str, Any] = field(default_factory=dict)
    # cursors between requests: closing a DuckDB cursor waits on the database instance, which
    # showed as 12 % of the API's time under 8 concurrent clients; a pool reuses them
    idle: list[duckdb.DuckDBPyConnection] = field(default_factory=list)
    users: int = 0
    retired: bool = False

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """Per-snapshot memo: a publish brings a new snapshot, so nothing here goes stale."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def retire(self) -> None:
        """No new request gets this snapshot; it closes now, or when its last user ends."""
        self.retired = True
        if self.users == 0:
            self.close()

    def close(self) -> None:
        for cursor in self.idle:
            cursor.close()
        self.idle.clear()
        self.con.close()


def open_published(path: Path, threads: int, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB with `path` attached read-only as catalog `published`."""
    con = duckdb.connect(":memory:", config={"threads": threads, "memory_limit": memory_limit})
    try:
        # ATTACH takes no parameters; the path comes from configuration, quotes escaped anyway
        escaped = str(path).replace("'", "''")
        con.execute(f"attach '{escaped}' as {PUBLISHED} (read_only)")
        present = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? "
            "and schema_name = 'serving' union select view_name from duckdb_views() "
            "where database_name = ? and schema_name = 'serving'",
            [PUBLISHED, PUBLISHED]).fetchall()}
    except duckdb.Error as exc:
        con.close()
        raise WarehouseUnavailable(f"cannot open the warehouse {path}: {first_line(exc)}") from exc
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        con.close()
        raise WarehouseUnavailable(
            f"the warehouse {path} has no serving.{missing[0]} yet (run `pad refresh`)")
    return con


def drop_pending_result(cur: duckdb.DuckDBPyConnection) -> bool:
    """Make a cursor fit for the next request; False (and closed) when it cannot be.

    A result read with fetchone() stays unfinished, and DuckDB 2 refuses other work (sql())
    on a cursor holding one, so the pool drops it first. DuckDB 1.x has no abort(): its
    cursors are closed instead of pooled."""
    try:
        cur.abort()
        return True
    except (AttributeError, duckdb.Error):
        cur.close()
        return False


class Snapshots:
    """The current snapshot of one published path; safe to share between threads.

    `on_publish` runs in a background thread whenever a newly published file replaces an
    older one (a long-running server warms the new file there)."""

    def __init__(self, warehouse: Path, threads: int = 1, memory_limit: str = "2GB",
                 block_clients: int = BLOCK_CLIENTS,
                 on_publish: Callable[[], Any] | None = None) -> None:
        self.warehouse = Path(warehouse)
        self.block_clients = block_clients
        self._on_publish = on_publish
        self._threads = threads
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self.current: Snapshot | None = None

    def _acquire(self) -> tuple[Snapshot, duckdb.DuckDBPyConnection]:
        key = stat_warehouse(self.warehouse)
        with self._lock:
            current = self.current
            if current is None or current.key != key:
                con = open_published(self.warehouse, self._threads, self._memory_limit)
                if current is not None:
                    current.retire()
                    if self._on_publish is not None:
                        threading.Thread(target=self._on_publish, name="pad-warm",
                                         daemon=True).start()
                self.current = current = Snapshot(key=key, con=con,
                                                  block_clients=self.block_clients)
            current.users += 1
            cur = current.idle.pop() if current.idle else None
        return current, cur or current.con.cursor()

    def _release(self, snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> None:
        reusable = drop_pending_result(cur)
        with self._lock:
            snap.users -= 1
            if reusable:
                snap.idle.append(cur)
            if snap.retired and snap.users == 0:
                snap.close()

    @contextmanager
    def session(self) -> Iterator[tuple[Snapshot, duckdb.DuckDBPyConnection]]:
        """One snapshot and a cursor of its own for the duration of one request."""
        snap, cur = self._acquire()
        try:
            yield snap, cur
        except duckdb.CatalogException as exc:
            raise WarehouseUnavailable(
                f"the published warehouse lacks a serving table: {first_line(exc)}") from exc
        finally:
            self._release(snap, cur)

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.retire()
                self.current = None

    @contextmanager
    def private_reader(self, snap: Snapshot) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """`snap`'s file in a DuckDB instance of its own, for one big read: the blocks it
        reads stay in that instance's buffers and go when it closes, not in the snapshot's
        (at full scale, reading every client's features left ~700 MB there). None when the
        path no longer holds that file (a publish since): the caller reads through `snap`."""
        try:
            con = open_published(self.warehouse, 1, self._memory_limit)
        except WarehouseUnavailable:
            yield None
            return
        try:
            yield con if _holds(self.warehouse, snap.key) else None
        finally:
            con.close()


def _holds(path: Path, key: FileKey) -> bool:
    """Whether `path` is still the file of `key` (checked after opening it: a file renamed
    over the path later does not change what was opened)."""
    try:
        return stat_warehouse(path) == key
    except WarehouseUnavailable:
        return False


# --- every client in memory ----------------------------------------------------------------


def positions_in(sorted_ids: np.ndarray, wanted: Sequence[int] | np.ndarray) -> np.ndarray:
    """Index of each wanted id in `sorted_ids` (ascending), -1 where absent."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if not len(sorted_ids):
        return np.full(len(wanted), -1)
    at = np.minimum(np.searchsorted(sorted_ids, wanted), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == wanted, at, -1)


@dataclass(frozen=True)
class ClientIndex:
    """Every client's id, population, outcome and decision in memory (numpy, ~25 bytes a
    client, sorted by id), loaded once per snapshot: id-prefix searches, existence checks and
    the outcome of similar clients then need no scan or join over all clients per request."""

    ids: np.ndarray          # int64, sorted
    history: np.ndarray      # bool: population = 'history'
    target: np.ndarray       # int8: 0, 1, or -1 when unknown
    score: np.ndarray        # int64: -1 when the client has no score
    decision: np.ndarray     # int8 codes into `decisions` (-1 = none)
    band: np.ndarray         # int8 codes into `bands` (-1 = none)
    decisions: tuple[str, ...]
    bands: tuple[str, ...]

    def positions(self, wanted: Sequence[int] | np.ndarray) -> np.ndarray:
        """Index of each wanted id, -1 where absent."""
        return positions_in(self.ids, wanted)

    def contains(self, sk_id_curr: int) -> bool:
        return bool(self.positions([sk_id_curr])[0] >= 0)

    def summary(self, at: int) -> ClientSummary:
        code, band = int(self.decision[at]), int(self.band[at])
        return ClientSummary(
            sk_id_curr=int(self.ids[at]),
            population="history" if self.history[at] else "pending",
            decision=self.decisions[code] if code >= 0 else None,
            score=int(self.score[at]) if self.score[at] >= 0 else None,
            risk_band=self.bands[band] if band >= 0 else None)


def load_client_index(cur: duckdb.DuckDBPyConnection) -> ClientIndex:
    data = cur.execute(
        f"select c.sk_id_curr, c.population = 'history' as history, "
        f"coalesce(c.target, -1)::tinyint as target, coalesce(s.score, -1)::bigint as score, "
        f"s.decision, s.risk_band from {S}.clients c "
        f"left join {S}.client_scores s on s.sk_id_curr = c.sk_id_curr "
        f"order by c.sk_id_curr").fetchnumpy()
    decision_codes, decisions = _codes(data["decision"])
    band_codes, bands = _codes(data["risk_band"])
    return ClientIndex(
        ids=np.asarray(data["sk_id_curr"], dtype=np.int64),
        history=np.ma.filled(np.ma.asarray(data["history"]), False).astype(bool),
        target=np.asarray(data["target"], dtype=np.int8),
        score=np.asarray(data["score"], dtype=np.int64),
        decision=decision_codes, band=band_codes, decisions=decisions, bands=bands)


@dataclass(frozen=True)
class ClientRows:
    """A serving table with one row per client (clients, client_scores) held in memory as
    Arrow columns, sorted by id, loaded once per snapshot (≈ 90 and 30 MB at 356k clients). A
    point query costs DuckDB ≈ 1 ms of planning and scanning; reading one row here ≈ 0.03 ms
    (a scalar per column: slicing the table and converting the slice costs 7× more), and these
    two lookups are most of what the API and the dashboard's client page ask."""

    ids: np.ndarray  # int64, sorted
    columns: dict[str, pa.Array]

    def row(self, sk_id_curr: int) -> dict[str, Any] | None:
        at = int(positions_in(self.ids, [sk_id_curr])[0])
        if at < 0:
            return None
        return {name: clean(column[at].as_py()) for name, column in self.columns.items()}


def load_client_rows(cur: duckdb.DuckDBPyConnection, table: str) -> ClientRows:
    data = cur.sql(f"select * from {S}.{table} order by sk_id_curr").to_arrow_table()
    ids = np.asarray(data.column("sk_id_curr").to_numpy(), dtype=np.int64)
    return ClientRows(ids=ids, columns={name: data.column(name).combine_chunks()
                                        for name in data.column_names})


def _codes(column: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Small integer codes of a text column (-1 = null) and the sorted labels."""
    values = np.ma.filled(np.ma.asarray(column, dtype=object), None)
    labels = tuple(sorted({v for v in values if v is not None}))
    lookup = {label: i for i, label in enumerate(labels)}
    return np.array([lookup.get(v, -1) for v in values], dtype=np.int8), labels


def client_index(snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> ClientIndex:
    return snap.cached("index", lambda: load_client_index(cur))


def require_client(snap: Snapshot, cur: duckdb.DuckDBPyConnection, sk_id_curr: int) -> None:
    """ClientNotFound unless the published file has this client."""
    if not client_index(snap, cur).contains(sk_id_curr):
        raise client_not_found(sk_id_curr)


def client_row(snap: Snapshot, cur: duckdb.DuckDBPyConnection, table: str,
               sk_id_curr: int) -> dict[str, Any]:
    """The client's row of a one-row-per-client table (`ClientRows`); 404 when absent."""
    rows = snap.cached(f"rows:{table}", lambda: load_client_rows(cur, table))
    row = rows.row(sk_id_curr)
    if row is None:
        raise client_not_found(sk_id_curr)
    return row
