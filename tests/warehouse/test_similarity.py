"""The neighbour search behind serving.similar_clients."""
from __future__ import annotations

import numpy as np
import pytest

from warehouse.similarity import (
    embed,
    importance_weights,
    nearest_history_neighbours,
    percentile_ranks,
)


def test_percentile_ranks_ignore_scale_and_put_missing_at_the_median() -> None:
    values = np.array([[1.0, np.nan], [1e9, 2.0], [5.0, 1.0], [np.nan, 3.0]])
    ranks = percentile_ranks(values)
    assert ranks[:, 0].tolist() == [pytest.approx(1 / 3), 1.0, pytest.approx(2 / 3), 0.5]
    assert ranks[0, 1] == 0.5
    assert percentile_ranks(np.full((3, 1), np.nan)).tolist() == [[0.5]] * 3


def test_importance_weights() -> None:
    assert importance_weights(np.array([3.0, 1.0])).tolist() == [0.75, 0.25]
    assert importance_weights(np.array([0.0, np.nan])).tolist() == [0.5, 0.5]


def test_neighbours_are_exact_in_the_embedding_and_only_history_clients() -> None:
    rng = np.random.default_rng(5)
    n, k = 400, 20
    values = rng.normal(size=(n, 6))
    values[rng.random((n, 6)) < 0.1] = np.nan
    ids = np.arange(1000, 1000 + n) * 3
    history = rng.random(n) < 0.8
    importance = rng.random(6)
    result = nearest_history_neighbours(ids, values, history, importance, k=k, components=3)
    assert len(result) == n * k
    ranks = result.groupby("sk_id_curr")["rank"].apply(list)
    assert len(ranks) == n and all(r == list(range(1, k + 1)) for r in ranks)
    assert set(result["neighbour_id"]) <= set(ids[history])
    assert not (result["neighbour_id"] == result["sk_id_curr"]).any()
    # brute force in the same embedding
    points = embed(values, importance_weights(importance), history, 3)
    for row in (0, 17, 250):
        d = np.sqrt(((points[history] - points[row]) ** 2).sum(axis=1))
        others = ids[history] != ids[row]
        expected = np.sort(d[others])[:k]
        got = result[result["sk_id_curr"] == ids[row]]["distance"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_small_populations() -> None:
    ids = np.array([1, 2, 3])
    values = np.array([[0.0], [1.0], [2.0]])
    few = nearest_history_neighbours(ids, values, np.array([True, True, False]), np.ones(1), k=50)
    assert few.groupby("sk_id_curr").size().tolist() == [1, 1, 1]
    none = nearest_history_neighbours(ids, values, np.array([True, False, False]), np.ones(1))
    assert none.empty and list(none.columns) == ["sk_id_curr", "rank", "neighbour_id", "distance"]


def test_the_rows_stream_in_batches_of_a_chunk_of_clients(monkeypatch) -> None:
    from warehouse import similarity

    monkeypatch.setattr(similarity, "QUERY_CHUNK", 64)
    rng = np.random.default_rng(8)
    n, k = 300, 10
    ids = (np.arange(n, dtype=np.int32) * 7 + 100002).astype(np.int32)
    values, history, importance = rng.normal(size=(n, 4)), rng.random(n) < 0.7, rng.random(4)
    batches = list(similarity.neighbour_batches(ids, values, history, importance, k=k))
    # ceil(300 / 64) batches of at most 64 clients × k rows, ids in their own type (int32)
    assert [b.num_rows for b in batches] == [64 * k] * 4 + [(n - 4 * 64) * k]
    assert all(b.schema.field("sk_id_curr").type == "int32" for b in batches)
    streamed = np.concatenate([b.column("neighbour_id").to_numpy() for b in batches])
    whole = similarity.nearest_history_neighbours(ids, values, history, importance, k=k)
    assert streamed.tolist() == whole["neighbour_id"].tolist()
    assert whole["sk_id_curr"].tolist() == np.repeat(ids, k).tolist()
