"""Read-only lookups on the published warehouse's `serving` schema — the only SQL of the package.

Owns: opening `$PAD_HOME/warehouse.duckdb` read-only, moving to a newly published file, and every
query the API and the dashboard run (no Panel, no HTTP here).

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

Safety: values always travel as parameters; the only identifiers spliced into SQL are feature
column names, accepted only when they are columns of `serving.client_feature_values`.
"""
from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.blocks import BLOCK_CLIENTS, BlockedTable, records
from dashboard.schemas import (
    Bin,
    ClientPage,
    ClientRecord,
    ClientScore,
    ClientSummary,
    Comparison,
    CurvePoint,
    Explanation,
    Feature,
    FeatureList,
    Health,
    ImportanceItem,
    ModelCurves,
    ModelRun,
    ModelRuns,
    ModelSummary,
    Portfolio,
    PortfolioBand,
    PortfolioDecision,
    RefreshRuns,
    Scatter,
    ScatterPoint,
    ScoreBin,
    ScoreScaling,
    SimilarClient,
    SimilarClients,
    utc_jsonable,
)

PUBLISHED = "published"
S = f"{PUBLISHED}.serving"
MAX_ID = 2**63 - 1
MAX_LIMIT = 1000
SIMILAR_K = 50
# serving.client_feature_values columns that are not features (see its dbt yml)
FEATURE_VALUE_KEYS = ("sk_id_curr", "population", "target", "in_scatter_sample")
# the tables without which nothing can be served: checked when a snapshot opens
REQUIRED_TABLES = ("clients", "client_scores")
FALLBACK_BINS = 20
T = TypeVar("T")
DRIVER_FIELDS = ("rank", "feature_name", "feature_label", "family", "feature_value",
                 "shap_value", "points")
# the many-rows-per-client tables read through dashboard.blocks, and the order of their rows
BLOCKED_SQL = {
    table: f"select sk_id_curr, {columns} from {S}.{table} "
           f"where sk_id_curr between $1 and $2 order by sk_id_curr, {order}"
    for table, columns, order in (
        ("client_drivers", ", ".join(DRIVER_FIELDS), "rank"),
        ("client_families", "family, family_label, shap_value, points", "family"),
        ("client_reasons", "rank, reason_code, reason_text, points", "rank"),
        ("similar_clients", "rank, neighbour_id, distance", "rank, neighbour_id"))}


class WarehouseUnavailable(RuntimeError):
    """No published warehouse yet, or one without the serving tables (API: 503)."""


class ClientNotFound(LookupError):
    """No such client in the published warehouse (API: 404)."""


class InvalidRequest(ValueError):
    """A well-typed but meaningless request, e.g. an unknown feature (API: 422)."""


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
class _Snapshot:
    key: FileKey
    con: duckdb.DuckDBPyConnection
    cache: dict[str, Any] = field(default_factory=dict)
    # cursors between requests: closing a DuckDB cursor waits on the database instance, which
    # showed as 12 % of the API's time under 8 concurrent clients; a pool reuses them
    idle: list[duckdb.DuckDBPyConnection] = field(default_factory=list)
    users: int = 0
    retired: bool = False

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
        return {name: _clean(column[at].as_py()) for name, column in self.columns.items()}


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
        raise WarehouseUnavailable(f"cannot open the warehouse {path}: {_first_line(exc)}") from exc
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        con.close()
        raise WarehouseUnavailable(
            f"the warehouse {path} has no serving.{missing[0]} yet (run `pad refresh`)")
    return con


def id_prefix_ranges(prefix: str) -> list[tuple[int, int]]:
    """Inclusive id ranges whose decimal writing starts with `prefix` (digits only).

    '123' → [123,123], [1230,1239], [12300,12399], … up to 19 digits: integer ranges let
    DuckDB compare integers instead of casting every id to text.
    """
    if not re.fullmatch(r"[0-9]{1,19}", prefix):
        raise InvalidRequest("q must be the first digits of a client id")
    if prefix.startswith("0"):
        return [(0, 0)] if prefix == "0" else []
    base = int(prefix)
    ranges = []
    for extra in range(20 - len(prefix)):
        low, high = base * 10**extra, (base + 1) * 10**extra - 1
        if low > MAX_ID:
            break
        ranges.append((low, min(high, MAX_ID)))
    return ranges


class Lookup:
    """Typed read-only queries on the published warehouse; safe to share between threads."""

    def __init__(self, warehouse: Path, threads: int = 1, memory_limit: str = "2GB",
                 block_clients: int = BLOCK_CLIENTS, warm_publishes: bool = False) -> None:
        self.warehouse = Path(warehouse)
        self._block_clients = block_clients
        # a long-running server (the API) loads each newly published file in the background
        self._warm_publishes = warm_publishes
        self._warm_key: FileKey | None = None   # the file `warm` has loaded completely
        self._threads = threads
        self._memory_limit = memory_limit
        self._lock = threading.Lock()
        self._current: _Snapshot | None = None

    # --- snapshots ---------------------------------------------------------------------------

    def _acquire(self) -> tuple[_Snapshot, duckdb.DuckDBPyConnection]:
        key = stat_warehouse(self.warehouse)
        with self._lock:
            current = self._current
            if current is None or current.key != key:
                con = open_published(self.warehouse, self._threads, self._memory_limit)
                if current is not None:
                    current.retire()
                    if self._warm_publishes:
                        threading.Thread(target=self.warm, name="pad-warm", daemon=True).start()
                self._current = current = _Snapshot(key=key, con=con)
            current.users += 1
            cur = current.idle.pop() if current.idle else None
        return current, cur or current.con.cursor()

    def _release(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection) -> None:
        reusable = _drop_pending_result(cur)
        with self._lock:
            snap.users -= 1
            if reusable:
                snap.idle.append(cur)
            if snap.retired and snap.users == 0:
                snap.close()

    @contextmanager
    def _session(self) -> Iterator[tuple[_Snapshot, duckdb.DuckDBPyConnection]]:
        """One snapshot and a cursor of its own for the duration of one request."""
        snap, cur = self._acquire()
        try:
            yield snap, cur
        except duckdb.CatalogException as exc:
            raise WarehouseUnavailable(
                f"the published warehouse lacks a serving table: {_first_line(exc)}") from exc
        finally:
            self._release(snap, cur)

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retire()
                self._current = None

    def warm(self) -> bool:
        """Load into memory now what requests would load on first use: the client index, the
        one-row-per-client tables, every block of the many-rows-per-client tables, features,
        model and portfolio (≈ 8 s of CPU at 356k clients). False when nothing is published."""
        try:
            with self._session() as (snap, cur):
                index = self._index(snap, cur)
                for table in ("clients", "client_scores"):
                    self._cached(snap, f"rows:{table}", lambda t=table: load_client_rows(cur, t))
                for table in BLOCKED_SQL:
                    for first in range(0, len(index.ids), self._block_clients):
                        self._client_rows(snap, cur, table, int(index.ids[first]))
                self._feature_map(snap, cur)
                warmed = snap.key
        except WarehouseUnavailable:
            return False
        for summary in (self.model, self.portfolio):
            try:
                summary()
            except WarehouseUnavailable:
                pass
        self._warm_key = warmed
        return True

    def is_warm(self) -> bool:
        """True when the published file is the one `warm` loaded completely: a client's
        lookups then read memory only (no DuckDB query, no load)."""
        try:
            return self._warm_key is not None and stat_warehouse(self.warehouse) == self._warm_key
        except WarehouseUnavailable:
            return False

    @staticmethod
    def _cached(snap: _Snapshot, key: str, compute: Callable[[], T]) -> T:
        # per-snapshot memo: a publish brings a new snapshot, so nothing here goes stale
        if key not in snap.cache:
            snap.cache[key] = compute()
        return snap.cache[key]

    # --- health and search ----------------------------------------------------------------

    def health(self) -> Health:
        try:
            with self._session() as (snap, cur):
                def summary() -> tuple[str | None, int]:
                    row = cur.execute(
                        f"select any_value(model_version), count(*) from {S}.client_scores"
                    ).fetchone()
                    return row[0], int(row[1])

                version, clients = self._cached(snap, "health", summary)
                published = datetime.fromtimestamp(snap.key.mtime_ns / 1e9, tz=UTC)
                return Health(status="ok", detail=f"serving {clients:,} scored clients",
                              warehouse=str(self.warehouse), published_at=published,
                              model_version=version, clients=clients)
        except WarehouseUnavailable as exc:
            return Health(status="unavailable", detail=str(exc), warehouse=str(self.warehouse))

    def _index(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection) -> ClientIndex:
        return self._cached(snap, "index", lambda: load_client_index(cur))

    def _require(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection,
                 sk_id_curr: int) -> None:
        if not self._index(snap, cur).contains(sk_id_curr):
            raise ClientNotFound(f"client {sk_id_curr} not found")

    def search_clients(self, q: str | None = None, population: str | None = None,
                       decision: str | None = None, risk_band: str | None = None,
                       limit: int = 50, offset: int = 0) -> ClientPage:
        """Clients whose id starts with `q`, filtered, in id order, one page at a time."""
        if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_ID:
            raise InvalidRequest(f"limit must be 1–{MAX_LIMIT} and offset ≥ 0")
        ranges = id_prefix_ranges(q) if q else None
        with self._session() as (snap, cur):
            index = self._index(snap, cur)
        if ranges is None:
            chosen = np.arange(len(index.ids))
        else:
            # ids are sorted: each prefix range is one contiguous slice
            bounds = [(np.searchsorted(index.ids, lo, "left"),
                       np.searchsorted(index.ids, hi, "right")) for lo, hi in ranges]
            chosen = np.concatenate([np.arange(a, b) for a, b in bounds] or [np.arange(0)])
            chosen.sort()
        keep = np.ones(len(chosen), dtype=bool)
        if population is not None:
            keep &= index.history[chosen] == (population == "history") \
                if population in ("history", "pending") else False
        for value, codes, labels in ((decision, index.decision, index.decisions),
                                     (risk_band, index.band, index.bands)):
            if value is not None:
                keep &= codes[chosen] == (labels.index(value) if value in labels else -2)
        chosen = chosen[keep]
        page = chosen[offset:offset + limit] if offset < len(chosen) else chosen[:0]
        return ClientPage(items=[index.summary(int(at)) for at in page], total=len(chosen),
                          limit=limit, offset=offset)

    # --- one client ----------------------------------------------------------------------

    def _row(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, table: str,
             sk_id_curr: int) -> dict[str, Any]:
        """The client's row of a one-row-per-client table (`ClientRows`); 404 when absent."""
        rows = self._cached(snap, f"rows:{table}", lambda: load_client_rows(cur, table))
        row = rows.row(sk_id_curr)
        if row is None:
            raise ClientNotFound(f"client {sk_id_curr} not found")
        return row

    def client(self, sk_id_curr: int) -> ClientRecord:
        _check_id(sk_id_curr)
        with self._session() as (snap, cur):
            return ClientRecord(**self._row(snap, cur, "clients", sk_id_curr))

    def score(self, sk_id_curr: int) -> ClientScore:
        _check_id(sk_id_curr)
        with self._session() as (snap, cur):
            return ClientScore(**self._row(snap, cur, "client_scores", sk_id_curr))

    def _client_rows(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, table: str,
                     sk_id_curr: int) -> dict[str, list[Any]]:
        """The client's rows of a many-rows-per-client table (`BLOCKED_SQL`), one list per
        column; the caller has checked that the client exists."""
        blocked = self._cached(snap, f"blocked:{table}", lambda: BlockedTable(
            name=table, sql=BLOCKED_SQL[table], client_ids=self._index(snap, cur).ids,
            block_clients=self._block_clients))
        return blocked.rows(cur, sk_id_curr,
                            lambda key, compute: self._cached(snap, key, compute))

    def explanation(self, sk_id_curr: int) -> Explanation:
        """Drivers (top contributions), families (all contributions summed) and reasons."""
        _check_id(sk_id_curr)
        with self._session() as (snap, cur):
            scored = self._row(snap, cur, "client_scores", sk_id_curr)
            self._require(snap, cur, sk_id_curr)
            drivers = records(self._client_rows(snap, cur, "client_drivers", sk_id_curr),
                              DRIVER_FIELDS)
            families = records(self._client_rows(snap, cur, "client_families", sk_id_curr),
                               ("family", "family_label", "shap_value", "points"))
            reasons = records(self._client_rows(snap, cur, "client_reasons", sk_id_curr),
                              ("rank", "reason_code", "reason_text", "points"))
            base_value, base_points = self._base(snap, cur, scored, families)
        # one validation of the whole tree (in pydantic's core) rather than ~45 constructors
        return Explanation.model_validate({
            "sk_id_curr": sk_id_curr, "model_version": scored["model_version"],
            "base_value": base_value, "base_points": base_points,
            "score": int(scored["score"]), "drivers": drivers,
            "families": sorted(families, key=lambda f: (f["points"] is None, f["points"] or 0,
                                                        f["family"])),
            "reasons": reasons})

    def _base(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, head: dict[str, Any],
              families: list[dict[str, Any]]) -> tuple[float, float]:
        """The SHAP base value (log-odds) and its points: from the champion's model_runs row
        when it has them, else solved from this client (its contributions sum to its score)."""
        try:
            run = self._cached(snap, "model", lambda: self._model(cur))
            extra = run.model_extra or {}
            if extra.get("base_value") is not None and extra.get("base_points") is not None:
                return float(extra["base_value"]), float(extra["base_points"])
        except WarehouseUnavailable:
            pass
        p = head["probability_default"]
        log_odds = math.log(p / (1 - p)) if p is not None and 0 < p < 1 else float("nan")
        base_value = log_odds - sum(f["shap_value"] or 0.0 for f in families)
        base_points = head["score"] - sum(f["points"] or 0.0 for f in families)
        return (base_value if math.isfinite(base_value) else 0.0), base_points

    def similar(self, sk_id_curr: int, k: int = 10) -> SimilarClients:
        """The k nearest history clients (serving.similar_clients), with outcome and score."""
        _check_id(sk_id_curr)
        if not 1 <= k <= SIMILAR_K:
            raise InvalidRequest(f"k must be 1–{SIMILAR_K}")
        with self._session() as (snap, cur):
            self._require(snap, cur, sk_id_curr)
            index = self._index(snap, cur)
            found = self._client_rows(snap, cur, "similar_clients", sk_id_curr)
        rows = [(neighbour, distance) for rank, neighbour, distance in
                zip(found["rank"], found["neighbour_id"], found["distance"], strict=True)
                if rank <= k]
        items = []
        for (neighbour, distance), at in zip(rows, index.positions([r[0] for r in rows]),
                                             strict=True):
            summary = index.summary(int(at)) if at >= 0 else None
            target = int(index.target[at]) if at >= 0 and index.target[at] >= 0 else None
            items.append(SimilarClient(sk_id_curr=neighbour, distance=distance, target=target,
                                       score=summary.score if summary else None,
                                       decision=summary.decision if summary else None))
        return SimilarClients(items=items)

    # --- comparisons -------------------------------------------------------------------------

    def features(self) -> FeatureList:
        """Features the comparison page can plot, most important first."""
        with self._session() as (snap, cur):
            return FeatureList(items=list(self._feature_map(snap, cur).values()))

    def _feature_map(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection) -> dict[str, Feature]:
        def compute() -> dict[str, Feature]:
            columns = [c for c in _columns(cur, "client_feature_values")
                       if c not in FEATURE_VALUE_KEYS]
            if not columns:
                return {}
            marks = ", ".join("?" * len(columns))
            info = {r["feature_name"]: r for r in _fetch(
                cur, f"select feature_name, feature_label, family, description "
                     f"from {S}.feature_dictionary where feature_name in ({marks})", columns)}
            ranks = {r["feature_name"]: r["rank"] for r in _fetch(
                cur, f"select feature_name, min(rank) as rank from {S}.feature_importance "
                     f"where feature_name in ({marks}) group by feature_name", columns)}
            features = [Feature(feature_name=c,
                                feature_label=(info.get(c) or {}).get("feature_label") or c,
                                family=(info.get(c) or {}).get("family"),
                                description=(info.get(c) or {}).get("description"),
                                rank=ranks.get(c)) for c in columns]
            features.sort(key=lambda f: (f.rank is None, f.rank or 0, f.feature_name))
            return {f.feature_name: f for f in features}

        return self._cached(snap, "features", compute)

    def _feature(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, name: str) -> Feature:
        feature = self._feature_map(snap, cur).get(name)
        if feature is None:
            raise InvalidRequest(f"unknown feature {name[:80]!r}: GET /features lists them")
        return feature

    def comparison(self, sk_id_curr: int, feature: str, group: str = "all") -> Comparison:
        """The client's value of `feature` against the distribution of a group of clients:
        'all', 'outcome' (repaid vs difficulties) or 'similar' (its 50 nearest history
        clients, on the same bins as 'all')."""
        _check_id(sk_id_curr)
        if group not in ("all", "similar", "outcome"):
            raise InvalidRequest("group must be all, similar or outcome")
        with self._session() as (snap, cur):
            info = self._feature(snap, cur, feature)
            self._require(snap, cur, sk_id_curr)
            client_value = self._values_of(snap, cur, info.feature_name, [sk_id_curr])[0]
            if group == "similar":
                edges = self._edges(snap, cur, info.feature_name)
                neighbours = self._client_rows(snap, cur, "similar_clients",
                                               sk_id_curr)["neighbour_id"]
                values = self._values_of(snap, cur, info.feature_name, neighbours)
                bins = _bin_values(values, edges, "similar")
            else:
                groups = ["all"] if group == "all" else ["outcome_0", "outcome_1"]
                bins = [b for g in groups for b in self._group_bins(snap, cur, info.feature_name,
                                                                    g)]
        return Comparison(feature_name=info.feature_name, feature_label=info.feature_label,
                          client_value=None if np.isnan(client_value) else float(client_value),
                          bins=bins)

    def _feature_values(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection,
                        feature: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids sorted, values with NaN = missing) of one comparable feature, loaded once per
        snapshot (2.8 MB at 356k clients): the similar clients' values then cost a
        searchsorted instead of a scan of the whole column per request."""
        def compute() -> tuple[np.ndarray, np.ndarray]:
            data = cur.execute(f"select sk_id_curr, {_quote(feature)} as v "
                               f"from {S}.client_feature_values order by sk_id_curr").fetchnumpy()
            return (np.asarray(data["sk_id_curr"], dtype=np.int64),
                    np.ma.filled(np.ma.asarray(data["v"]).astype(float), np.nan))

        return self._cached(snap, f"values:{feature}", compute)

    def _values_of(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, feature: str,
                   wanted: Sequence[int]) -> np.ndarray:
        """The feature's value for each wanted client (NaN when missing or absent)."""
        ids, values = self._feature_values(snap, cur, feature)
        if not len(ids):
            return np.full(len(wanted), np.nan)
        at = positions_in(ids, wanted)
        return np.where(at >= 0, values[np.maximum(at, 0)], np.nan)

    def _group_bins(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection, feature: str,
                    group: str) -> list[Bin]:
        """Precomputed histogram (serving.feature_distributions); computed here from
        client_feature_values for a feature the precomputed table does not cover."""
        def compute() -> list[Bin]:
            rows = _fetch(cur, f'select bin_low, bin_high, clients from '
                               f'{S}.feature_distributions where feature_name = ? '
                               f'and "group" = ? order by bin_low', [feature, group])
            if rows:
                return [Bin(group=group, **r) for r in rows]
            edges = self._edges(snap, cur, feature)
            condition = {"all": "true", "outcome_0": "target = 0", "outcome_1": "target = 1",
                         "pending": "population = 'pending'"}[group]
            values = _column_values(cur, f"select {_quote(feature)} "
                                         f"from {S}.client_feature_values where {condition}")
            return _bin_values(values, edges, group)

        return self._cached(snap, f"bins:{feature}:{group}", compute)

    def _edges(self, snap: _Snapshot, cur: duckdb.DuckDBPyConnection,
               feature: str) -> np.ndarray:
        """Bin edges of the feature's 'all' distribution (precomputed when available)."""
        def compute() -> np.ndarray:
            rows = cur.execute(f'select bin_low, bin_high from {S}.feature_distributions '
                               f'where feature_name = ? and "group" = \'all\' order by bin_low',
                               [feature]).fetchall()
            if rows:
                return np.array([rows[0][0]] + [r[1] for r in rows], dtype=float)
            # no precomputed bins: equal width over the 1st–99th percentiles, so a few
            # outliers (an income of 117M) do not squeeze everyone into one bin
            low, high = cur.execute(
                f"select quantile_cont({_quote(feature)}, 0.01), "
                f"quantile_cont({_quote(feature)}, 0.99) from {S}.client_feature_values"
            ).fetchone()
            if low is None:
                return np.array([0.0, 1.0])
            if high <= low:
                high = low + 1.0
            return np.linspace(low, high, FALLBACK_BINS + 1)

        return self._cached(snap, f"edges:{feature}", compute)

    def scatter(self, sk_id_curr: int, x: str, y: str) -> Scatter:
        """Two features for the precomputed client sample plus the client itself."""
        _check_id(sk_id_curr)
        with self._session() as (snap, cur):
            fx, fy = self._feature(snap, cur, x), self._feature(snap, cur, y)
            self._require(snap, cur, sk_id_curr)
            index = self._index(snap, cur)
            sample = self._cached(snap, "scatter_sample", lambda: np.asarray(
                [r[0] for r in cur.execute(f"select sk_id_curr from {S}.client_feature_values "
                                           f"where in_scatter_sample order by sk_id_curr"
                                           ).fetchall()], dtype=np.int64))
            sample = sample[sample != sk_id_curr]
            wanted = np.append(sample, sk_id_curr)
            xs = self._values_of(snap, cur, fx.feature_name, wanted)
            ys = self._values_of(snap, cur, fy.feature_name, wanted)
        targets = index.target[np.maximum(index.positions(wanted), 0)]
        points = [ScatterPoint(sk_id_curr=int(i), x=_finite(a), y=_finite(b),
                               group=_outcome_group(int(t)))
                  for i, a, b, t in zip(wanted, xs, ys, targets, strict=True)]
        return Scatter(x_feature=fx, y_feature=fy, client=points[-1], points=points[:-1])

    # --- model and portfolio ---------------------------------------------------------------

    def model(self) -> ModelSummary:
        """The champion's run, its top importance and the score scaling."""
        with self._session() as (snap, cur):
            return self._cached(snap, "model", lambda: self._model(cur))

    def _model(self, cur: duckdb.DuckDBPyConnection) -> ModelSummary:
        runs = _fetch(cur, f"select * from {S}.model_runs "
                           f"order by is_champion desc, trained_at desc nulls last limit 1")
        if not runs:
            raise WarehouseUnavailable("the published warehouse has no model run yet")
        run = _model_run(runs[0])
        importance = _fetch(cur, f"select i.rank, i.feature_name, "
                                 f"coalesce(d.feature_label, i.feature_name) as feature_label, "
                                 f"d.family, i.mean_abs_shap, i.gain "
                                 f"from {S}.feature_importance i "
                                 f"left join {S}.feature_dictionary d using (feature_name) "
                                 f"where i.model_version = ? order by i.rank limit 20",
                            [run.model_version])
        scaling = (_scaling_from_run(run, cur) or _scaling_from_params(run.params, cur)
                   or _derive_scaling(cur))
        return ModelSummary(**run.model_dump(),
                            importance=[ImportanceItem(**i) for i in importance],
                            score_scaling=scaling)

    def model_runs(self) -> ModelRuns:
        with self._session() as (_, cur):
            rows = _fetch(cur, f"select * from {S}.model_runs "
                               f"order by trained_at desc nulls last, model_version")
        return ModelRuns(items=[_model_run(r) for r in rows])

    def model_curves(self) -> ModelCurves:
        """ROC, calibration and cost-vs-threshold points of the champion (out-of-fold)."""
        with self._session() as (snap, cur):
            version = self._cached(snap, "model", lambda: self._model(cur)).model_version
            columns = _columns(cur, "model_curves")
            order = "curve, point" if "point" in columns else "curve, x"
            if "model_version" in columns:
                rows = _fetch(cur, f"select curve, x, y from {S}.model_curves "
                                   f"where model_version = ? order by {order}", [version])
            else:  # serving holds the current model only
                rows = _fetch(cur, f"select curve, x, y from {S}.model_curves order by {order}")
        points = [CurvePoint(**r) for r in rows if r["x"] is not None and r["y"] is not None]
        return ModelCurves(model_version=version, points=points)

    def refresh_runs(self, limit: int = 20) -> RefreshRuns:
        """Recent refresh runs, newest first; empty when the run log cannot be read (it is a
        view over run records on disk, which an analyst's copy of the file may not have)."""
        with self._session() as (_, cur):
            try:
                rows = _fetch(cur, f"select * from {S}.refresh_runs "
                                   f"order by started_at desc nulls last limit ?", [limit])
            except duckdb.Error:
                rows = []
        return RefreshRuns(items=[{k: _jsonable(v) for k, v in r.items()} for r in rows])

    def portfolio(self) -> Portfolio:
        """Decisions, risk bands and the score distribution of every scored client."""
        with self._session() as (snap, cur):
            return self._cached(snap, "portfolio", lambda: _portfolio(cur))


# --- helpers (module level: no state) ---------------------------------------------------------


def _drop_pending_result(cur: duckdb.DuckDBPyConnection) -> bool:
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


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_id(sk_id_curr: int) -> None:
    if not 0 <= sk_id_curr <= MAX_ID:
        raise ClientNotFound(f"client {sk_id_curr} not found")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _clean(value: Any) -> Any:
    # NaN/inf are not JSON; the warehouse means "missing" by them (CONTRACTS §5)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_jsonable(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def _fetch(cur: duckdb.DuckDBPyConnection, sql: str,
           params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [{n: _clean(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def _column_values(cur: duckdb.DuckDBPyConnection, sql: str,
                   params: Sequence[Any] = ()) -> np.ndarray:
    """The single column of `sql` as floats, NULL → NaN (fetchnumpy masks NULLs, and a
    masked array cast to float would expose whatever lies under the mask)."""
    column = next(iter(cur.execute(sql, list(params)).fetchnumpy().values()))
    return np.ma.filled(np.ma.asarray(column).astype(float), np.nan)


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = cur.execute("select column_name from duckdb_columns() where database_name = ? "
                       "and schema_name = 'serving' and table_name = ? order by column_index",
                       [PUBLISHED, table]).fetchall()
    if not rows:
        raise WarehouseUnavailable(f"the published warehouse has no serving.{table}")
    return [r[0] for r in rows]


def _bin_values(values: np.ndarray, edges: np.ndarray, group: str) -> list[Bin]:
    """Histogram of `values` on `edges`; values outside go to the end bins (as the
    precomputed histograms of the edge groups do), missing values are not counted."""
    values = values[np.isfinite(values)]
    clipped = np.clip(values, edges[0], edges[-1])
    counts, _ = np.histogram(clipped, bins=edges)
    return [Bin(bin_low=float(edges[i]), bin_high=float(edges[i + 1]), clients=int(c),
                group=group) for i, c in enumerate(counts)]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _outcome_group(target: int) -> str:
    return {0: "repaid", 1: "difficulties"}.get(target, "pending")


def _model_run(row: dict[str, Any]) -> ModelRun:
    params = row.get("params")
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            params = {"raw": params}
    fields = {k: _jsonable(v) if k not in ModelRun.model_fields else v
              for k, v in row.items() if k != "params"}
    fields["is_champion"] = bool(fields.get("is_champion"))
    return ModelRun(**fields, params=params if isinstance(params, dict) else {})


def _find_scaling(params: dict[str, Any]) -> dict[str, Any] | None:
    if {"offset", "factor"} <= params.keys():
        return params
    for value in params.values():
        if isinstance(value, dict) and {"offset", "factor"} <= value.keys():
            return value
    return None


def _score_cutoff(cur: duckdb.DuckDBPyConnection) -> float | None:
    value = cur.execute(f"select max(score_cutoff) from {S}.client_scores").fetchone()[0]
    return float(value) if value is not None else None


def _scaling_from_run(run: ModelRun, cur: duckdb.DuckDBPyConnection) -> ScoreScaling | None:
    extra = run.model_extra or {}
    if extra.get("score_offset") is None or extra.get("score_factor") is None:
        return None
    factor, offset = float(extra["score_factor"]), float(extra["score_offset"])
    return ScoreScaling(offset=offset, factor=factor, pdo=factor * math.log(2.0),
                        score_cutoff=_score_cutoff(cur), source="model_runs")


def _scaling_from_params(params: dict[str, Any],
                         cur: duckdb.DuckDBPyConnection) -> ScoreScaling | None:
    found = _find_scaling(params)
    if found is None:
        return None
    factor, offset = float(found["factor"]), float(found["offset"])
    return ScoreScaling(offset=offset, factor=factor, pdo=factor * math.log(2.0),
                        score_cutoff=_score_cutoff(cur), source="params")


def _derive_scaling(cur: duckdb.DuckDBPyConnection) -> ScoreScaling:
    """Solve score = offset − factor·logit(p) from the published rows: points = −factor·shap
    gives the factor exactly; the offset follows from the (integer) scores, to ±0.5."""
    factor = cur.execute(f"select median(-points / shap_value) from (select points, shap_value "
                         f"from {S}.client_drivers where abs(shap_value) > 1e-9 limit 100000)"
                         ).fetchone()[0]
    if factor is None:
        raise WarehouseUnavailable("cannot derive the score scaling: no contributions published")
    offset = cur.execute(f"select median(score + ? * ln(probability_default / "
                         f"(1 - probability_default))) from (select score, probability_default "
                         f"from {S}.client_scores where probability_default > 1e-12 "
                         f"and probability_default < 1 - 1e-12 limit 100000)",
                         [factor]).fetchone()[0]
    return ScoreScaling(offset=float(offset), factor=float(factor),
                        pdo=float(factor) * math.log(2.0), score_cutoff=_score_cutoff(cur),
                        source="derived")


def _nice_width(span: float, bins: int = 40) -> int:
    raw = max(span / bins, 1.0)
    magnitude = 10 ** math.floor(math.log10(raw))
    return int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def _portfolio(cur: duckdb.DuckDBPyConnection) -> Portfolio:
    head = cur.execute(f"select count(*), any_value(model_version), max(score_cutoff), "
                       f"min(score), max(score) from {S}.client_scores").fetchone()
    clients, version, cutoff, low, high = head
    decisions = _fetch(cur, f"select c.population, s.decision, count(*) as clients "
                            f"from {S}.clients c join {S}.client_scores s using (sk_id_curr) "
                            f"group by all order by all")
    # observed difficulties per band: history clients in the band of their OUT-OF-FOLD
    # prediction (serving.band_outcomes), never the in-sample band of the champion's own score
    bands = _fetch(cur, f"select s.risk_band, count(*) as clients, min(s.score) as min_score, "
                        f"max(s.score) as max_score, "
                        f"avg(s.probability_default) as mean_probability, "
                        f"coalesce(any_value(o.history_clients), 0) as history_clients, "
                        f"any_value(o.default_rate) as default_rate "
                        f"from {S}.client_scores s left join {S}.band_outcomes o "
                        f"on o.risk_band = s.risk_band and o.model_version = s.model_version "
                        f"group by s.risk_band order by s.risk_band")
    histogram: list[dict[str, Any]] = []
    if clients:
        width = _nice_width(float(high - low))
        histogram = _fetch(cur, f"select floor(score / ?) * ? as bin_low, "
                                f"floor(score / ?) * ? + ? as bin_high, decision, "
                                f"count(*) as clients from {S}.client_scores "
                                f"group by all order by all", [width, width, width, width, width])
    return Portfolio(clients=int(clients), model_version=version,
                     score_cutoff=float(cutoff) if cutoff is not None else None,
                     decisions=[PortfolioDecision(**d) for d in decisions],
                     bands=[PortfolioBand(**b) for b in bands],
                     score_histogram=[ScoreBin(**h) for h in histogram])
