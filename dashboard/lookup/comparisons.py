"""Comparisons: the comparable features, a client's value against the histogram of all,
similar or same-outcome clients, two features at once (scatter) and the similar clients."""
from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np

from dashboard.lookup.scores import blocked_rows
from dashboard.lookup.snapshots import (
    Snapshot,
    Snapshots,
    client_index,
    positions_in,
    require_client,
)
from dashboard.lookup.sql import (
    SIMILAR_K,
    InvalidRequest,
    S,
    check_id,
    column_values,
    columns_of,
    fetch,
    quote,
)
from dashboard.schemas import (
    Bin,
    Comparison,
    Feature,
    FeatureList,
    Scatter,
    ScatterPoint,
    SimilarClient,
    SimilarClients,
)
from i18n import Message

# serving.client_feature_values columns that are not features (see its dbt yml)
FEATURE_VALUE_KEYS = ("sk_id_curr", "population", "target", "in_scatter_sample")
FALLBACK_BINS = 20


def similar(snapshots: Snapshots, sk_id_curr: int, k: int = 10) -> SimilarClients:
    """The k nearest history clients (serving.similar_clients), with outcome and score."""
    check_id(sk_id_curr)
    if not 1 <= k <= SIMILAR_K:
        raise InvalidRequest(Message("error", "similar_k", most=SIMILAR_K))
    with snapshots.session() as (snap, cur):
        require_client(snap, cur, sk_id_curr)
        index = client_index(snap, cur)
        found = blocked_rows(snap, cur, "similar_clients", sk_id_curr)
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


def features(snapshots: Snapshots) -> FeatureList:
    """Features the comparison page can plot, most important first."""
    with snapshots.session() as (snap, cur):
        return FeatureList(items=list(feature_map(snap, cur).values()))


def feature_map(snap: Snapshot, cur: duckdb.DuckDBPyConnection) -> dict[str, Feature]:
    def compute() -> dict[str, Feature]:
        columns = [c for c in columns_of(cur, "client_feature_values")
                   if c not in FEATURE_VALUE_KEYS]
        if not columns:
            return {}
        marks = ", ".join("?" * len(columns))
        info = {r["feature_name"]: r for r in fetch(
            cur, f"select feature_name, feature_label, family, description "
                 f"from {S}.feature_dictionary where feature_name in ({marks})", columns)}
        ranks = {r["feature_name"]: r["rank"] for r in fetch(
            cur, f"select feature_name, min(rank) as rank from {S}.feature_importance "
                 f"where feature_name in ({marks}) group by feature_name", columns)}
        features = [Feature(feature_name=c,
                            feature_label=(info.get(c) or {}).get("feature_label") or c,
                            family=(info.get(c) or {}).get("family"),
                            description=(info.get(c) or {}).get("description"),
                            rank=ranks.get(c)) for c in columns]
        features.sort(key=lambda f: (f.rank is None, f.rank or 0, f.feature_name))
        return {f.feature_name: f for f in features}

    return snap.cached("features", compute)


def _feature(snap: Snapshot, cur: duckdb.DuckDBPyConnection, name: str) -> Feature:
    feature = feature_map(snap, cur).get(name)
    if feature is None:
        raise InvalidRequest(Message("error", "unknown_feature", feature=repr(name[:80])))
    return feature


def comparison(snapshots: Snapshots, sk_id_curr: int, feature: str,
               group: str = "all") -> Comparison:
    """The client's value of `feature` against the distribution of a group of clients:
    'all', 'outcome' (repaid vs difficulties) or 'similar' (its 50 nearest history
    clients, on the same bins as 'all')."""
    check_id(sk_id_curr)
    if group not in ("all", "similar", "outcome"):
        raise InvalidRequest(Message("error", "comparison_group"))
    with snapshots.session() as (snap, cur):
        info = _feature(snap, cur, feature)
        require_client(snap, cur, sk_id_curr)
        client_value = _values_of(snap, cur, info.feature_name, [sk_id_curr])[0]
        if group == "similar":
            edges = _edges(snap, cur, info.feature_name)
            neighbours = blocked_rows(snap, cur, "similar_clients", sk_id_curr)["neighbour_id"]
            values = _values_of(snap, cur, info.feature_name, neighbours)
            bins = _bin_values(values, edges, "similar")
        else:
            groups = ["all"] if group == "all" else ["outcome_0", "outcome_1"]
            bins = [b for g in groups for b in _group_bins(snap, cur, info.feature_name, g)]
    return Comparison(feature_name=info.feature_name, feature_label=info.feature_label,
                      client_value=None if np.isnan(client_value) else float(client_value),
                      bins=bins)


def _feature_values(snap: Snapshot, cur: duckdb.DuckDBPyConnection,
                    feature: str) -> tuple[np.ndarray, np.ndarray]:
    """(ids sorted, values with NaN = missing) of one comparable feature, loaded once per
    snapshot (2.8 MB at 356k clients): the similar clients' values then cost a
    searchsorted instead of a scan of the whole column per request."""
    def compute() -> tuple[np.ndarray, np.ndarray]:
        data = cur.execute(f"select sk_id_curr, {quote(feature)} as v "
                           f"from {S}.client_feature_values order by sk_id_curr").fetchnumpy()
        return (np.asarray(data["sk_id_curr"], dtype=np.int64),
                np.ma.filled(np.ma.asarray(data["v"]).astype(float), np.nan))

    return snap.cached(f"values:{feature}", compute)


def _values_of(snap: Snapshot, cur: duckdb.DuckDBPyConnection, feature: str,
               wanted: Sequence[int]) -> np.ndarray:
    """The feature's value for each wanted client (NaN when missing or absent)."""
    ids, values = _feature_values(snap, cur, feature)
    if not len(ids):
        return np.full(len(wanted), np.nan)
    at = positions_in(ids, wanted)
    return np.where(at >= 0, values[np.maximum(at, 0)], np.nan)


def _group_bins(snap: Snapshot, cur: duckdb.DuckDBPyConnection, feature: str,
                group: str) -> list[Bin]:
    """Precomputed histogram (serving.feature_distributions); computed here from
    client_feature_values for a feature the precomputed table does not cover."""
    def compute() -> list[Bin]:
        rows = fetch(cur, f'select bin_low, bin_high, clients from '
                          f'{S}.feature_distributions where feature_name = ? '
                          f'and "group" = ? order by bin_low', [feature, group])
        if rows:
            return [Bin(group=group, **r) for r in rows]
        edges = _edges(snap, cur, feature)
        condition = {"all": "true", "outcome_0": "target = 0", "outcome_1": "target = 1",
                     "pending": "population = 'pending'"}[group]
        values = column_values(cur, f"select {quote(feature)} "
                                    f"from {S}.client_feature_values where {condition}")
        return _bin_values(values, edges, group)

    return snap.cached(f"bins:{feature}:{group}", compute)


def _edges(snap: Snapshot, cur: duckdb.DuckDBPyConnection, feature: str) -> np.ndarray:
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
            f"select quantile_cont({quote(feature)}, 0.01), "
            f"quantile_cont({quote(feature)}, 0.99) from {S}.client_feature_values"
        ).fetchone()
        if low is None:
            return np.array([0.0, 1.0])
        if high <= low:
            high = low + 1.0
        return np.linspace(low, high, FALLBACK_BINS + 1)

    return snap.cached(f"edges:{feature}", compute)


def scatter(snapshots: Snapshots, sk_id_curr: int, x: str, y: str) -> Scatter:
    """Two features for the precomputed client sample plus the client itself."""
    check_id(sk_id_curr)
    with snapshots.session() as (snap, cur):
        fx, fy = _feature(snap, cur, x), _feature(snap, cur, y)
        require_client(snap, cur, sk_id_curr)
        index = client_index(snap, cur)
        sample = snap.cached("scatter_sample", lambda: np.asarray(
            [r[0] for r in cur.execute(f"select sk_id_curr from {S}.client_feature_values "
                                       f"where in_scatter_sample order by sk_id_curr"
                                       ).fetchall()], dtype=np.int64))
        sample = sample[sample != sk_id_curr]
        wanted = np.append(sample, sk_id_curr)
        xs = _values_of(snap, cur, fx.feature_name, wanted)
        ys = _values_of(snap, cur, fy.feature_name, wanted)
    targets = index.target[np.maximum(index.positions(wanted), 0)]
    points = [ScatterPoint(sk_id_curr=int(i), x=_finite(a), y=_finite(b),
                           group=_outcome_group(int(t)))
              for i, a, b, t in zip(wanted, xs, ys, targets, strict=True)]
    return Scatter(x_feature=fx, y_feature=fy, client=points[-1], points=points[:-1])


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

