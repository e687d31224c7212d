"""Nearest history clients of every client: the computation behind `serving.similar_clients`.

Owns the definition of "similar" shown to advisors:
1. take the most important model features (by mean |SHAP| of the champion, default 12);
2. turn each into percentile ranks over all clients (robust to outliers such as an income of
   117M; a missing value sits at the median, 0.5);
3. weight each feature by its share of the importance, so clients are similar in what the
   model looks at — distance² = Σ w·(Δ percentile)² with Σ w = 1, i.e. 0 (same profile) … 1;
4. keep the first principal axes of that weighted space (default 4, fitted on history clients):
   exact nearest-neighbour search degrades quickly with dimension (a k-d tree in 10
   dimensions at 356k clients takes ~15 minutes on 2 cores, in 4 dimensions ~1 minute), and
   with correlated features the first axes carry most of the weighted variance;
5. exact k nearest *history* clients (known outcome) in that space with a k-d tree
   (scipy's cKDTree, all cores), the client itself excluded.
The dbt Python model `warehouse/models/dashboard/similar_clients.py` streams
`neighbour_batches` into DuckDB (k rows per client: 53M rows at 3x full scale, which as one
DataFrame the flow process would hold whole, twice); the test fixtures call
`nearest_history_neighbours`, the same rows as one DataFrame.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.spatial import cKDTree
from scipy.stats import rankdata

NEIGHBOURS = 50
SIMILARITY_FEATURES = 12
COMPONENTS = 4
QUERY_CHUNK = 50_000


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Column-wise average-rank percentiles in (0, 1]; missing values → 0.5."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, 0.5)
    for j in range(values.shape[1]):
        present = np.isfinite(values[:, j])
        count = int(present.sum())
        if count:
            out[present, j] = rankdata(values[present, j]) / count
    return out


def importance_weights(importance: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 (equal weights when no importance is positive)."""
    w = np.clip(np.nan_to_num(np.asarray(importance, dtype=np.float64)), 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))


def embed(values: np.ndarray, weights: np.ndarray, is_history: np.ndarray,
          components: int = COMPONENTS) -> np.ndarray:
    """Coordinates of every client on the first principal axes of the weighted percentiles."""
    weighted = (percentile_ranks(values) - 0.5) * np.sqrt(weights)
    reference = weighted[is_history] if is_history.any() else weighted
    centre = reference.mean(axis=0)
    # eigenvectors of the (small, features × features) covariance matrix of history clients
    covariance = (np.atleast_2d(np.cov(reference - centre, rowvar=False))
                  if len(reference) > 1 else np.eye(weighted.shape[1]))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1][: min(components, weighted.shape[1])]
    return (weighted - centre) @ eigenvectors[:, order]


def nearest_history_neighbours(ids: np.ndarray, values: np.ndarray, is_history: np.ndarray,
                               importance: np.ndarray, k: int = NEIGHBOURS,
                               components: int = COMPONENTS, workers: int = -1) -> pd.DataFrame:
    """One row per client × rank: `sk_id_curr`, `rank` (1..k), `neighbour_id`, `distance`.

    `values` is clients × features (NaN = missing), `importance` one number per feature.
    Every client gets min(k, history clients − 1) neighbours, all of them history clients
    other than itself, nearest first.
    """
    frames = [batch.to_pandas() for batch in neighbour_batches(
        ids, values, is_history, importance, k=k, components=components, workers=workers)]
    return pd.concat(frames, ignore_index=True) if frames else _empty_neighbours()


def neighbour_batches(ids: np.ndarray, values: np.ndarray, is_history: np.ndarray,
                      importance: np.ndarray, k: int = NEIGHBOURS, components: int = COMPONENTS,
                      workers: int = -1) -> Iterator[pa.RecordBatch]:
    """The rows of `nearest_history_neighbours`, QUERY_CHUNK clients at a time, in the order
    of `ids` (ids keep their integer type): memory follows the chunk, not the portfolio."""
    id_type = pa.from_numpy_dtype(np.asarray(ids).dtype)
    ids = np.asarray(ids, dtype=np.int64)
    is_history = np.asarray(is_history, dtype=bool)
    history_ids = ids[is_history]
    wanted = min(k, len(history_ids) - 1)
    if wanted < 1:
        return
    points = embed(values, importance_weights(importance), is_history, components)
    tree = cKDTree(points[is_history])
    for start in range(0, len(ids), QUERY_CHUNK):
        chunk = slice(start, start + QUERY_CHUNK)
        rows = _query(tree, points[chunk], ids[chunk], history_ids, wanted, workers)
        yield pa.record_batch([pa.array(rows["sk_id_curr"]).cast(id_type),
                               pa.array(rows["rank"]),
                               pa.array(rows["neighbour_id"]).cast(id_type),
                               pa.array(rows["distance"])], schema=batch_schema(id_type))


def batch_schema(id_type: pa.DataType) -> pa.Schema:
    return pa.schema([("sk_id_curr", id_type), ("rank", pa.int32()),
                      ("neighbour_id", id_type), ("distance", pa.float64())])


def _query(tree: cKDTree, points: np.ndarray, own_ids: np.ndarray, history_ids: np.ndarray,
           wanted: int, workers: int) -> dict[str, np.ndarray]:
    # one extra neighbour: a history client finds itself at distance 0 and is dropped
    distance, index = tree.query(points, k=wanted + 1, workers=workers)
    distance = distance.reshape(len(points), -1)
    neighbour = history_ids[index.reshape(len(points), -1)]
    keep = neighbour != own_ids[:, None]
    # rows without themselves among the candidates (pending clients, or a history client
    # hidden behind more than k exact duplicates) drop their farthest candidate instead
    no_self = keep.all(axis=1)
    keep[no_self, -1] = False
    n = len(points)
    return {
        "sk_id_curr": np.repeat(own_ids, wanted),
        "rank": np.tile(np.arange(1, wanted + 1, dtype=np.int32), n),
        "neighbour_id": neighbour[keep],
        "distance": distance[keep].astype(np.float64),
    }


def _empty_neighbours() -> pd.DataFrame:
    return pd.DataFrame({"sk_id_curr": pd.Series(dtype="int64"),
                         "rank": pd.Series(dtype="int32"),
                         "neighbour_id": pd.Series(dtype="int64"),
                         "distance": pd.Series(dtype="float64")})
