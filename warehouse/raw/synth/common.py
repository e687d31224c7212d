"""Small vectorised building blocks shared by the synthetic table generators."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from warehouse.raw.schema import Table

SENTINEL_DAYS = 365243


@dataclass(frozen=True)
class Cat:
    """A categorical column: integer codes into `levels`, -1 = missing."""

    codes: np.ndarray
    levels: list[str]

    def to_arrow(self) -> pa.Array:
        codes = self.codes.astype(np.int32)
        mask = codes < 0
        indices = pa.array(np.where(mask, 0, codes), mask=mask, type=pa.int32())
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.levels, pa.string()))

    def is_(self, level: str) -> np.ndarray:
        return self.codes == self.levels.index(level)

    def isin(self, levels: list[str]) -> np.ndarray:
        wanted = [self.levels.index(x) for x in levels]
        return np.isin(self.codes, wanted)


def levels_with_weights(table: Table, column: str, extra: dict[str, float] | None = None,
                        drop: tuple[str, ...] = ()) -> tuple[list[str], np.ndarray]:
    """Levels and probabilities from the real sample counts, plus rare levels known from the
    full data (`extra`, as probabilities) that a 7.5k-row sample cannot show."""
    counts = dict(table.column(column).levels or {})
    for level in drop:
        counts.pop(level, None)
    total = sum(counts.values())
    probs = {k: v / total for k, v in counts.items()}
    extra = extra or {}
    scale = 1.0 - sum(extra.values())
    probs = {k: p * scale for k, p in probs.items()}
    probs.update(extra)
    levels = list(probs)
    weights = np.array([probs[k] for k in levels])
    return levels, weights / weights.sum()


def draw(rng: np.random.Generator, n: int, levels: list[str], weights: np.ndarray) -> Cat:
    return Cat(rng.choice(len(levels), size=n, p=weights).astype(np.int32), levels)


def draw_level_subset(rng: np.random.Generator, n: int, levels: list[str], weights: np.ndarray,
                      allowed: list[str]) -> np.ndarray:
    """Codes (into `levels`) drawn from the `allowed` subset, keeping relative frequencies."""
    idx = np.array([levels.index(a) for a in allowed])
    w = weights[idx] / weights[idx].sum()
    return idx[rng.choice(len(idx), size=n, p=w)].astype(np.int32)


def with_missing(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    out = values.astype(np.float64, copy=True)
    out[rng.random(len(out)) < rate] = np.nan
    return out


def money(values: np.ndarray, step: float = 0.01) -> np.ndarray:
    """Round amounts to a currency step; +0.0 turns -0.0 into 0.0 so it is written as `0.0`."""
    return np.round(np.round(values / step) * step, 6) + 0.0


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def repeat_index(counts: np.ndarray) -> np.ndarray:
    """Parent position of each child row, for `counts[i]` children of parent i."""
    return np.repeat(np.arange(len(counts)), counts)


def position_in_group(counts: np.ndarray) -> np.ndarray:
    """0-based position of each child row within its parent (rows grouped by parent)."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def per_parent_sum(parent: np.ndarray, values: np.ndarray, n_parents: int) -> np.ndarray:
    return np.bincount(parent, weights=values, minlength=n_parents)


def per_parent_count(parent: np.ndarray, n_parents: int) -> np.ndarray:
    return np.bincount(parent, minlength=n_parents).astype(np.float64)


def per_parent_max(parent: np.ndarray, values: np.ndarray, n_parents: int) -> np.ndarray:
    """Largest value per parent, 0 for parents without children."""
    out = np.zeros(n_parents)
    np.maximum.at(out, parent, np.asarray(values, dtype=np.float64))
    return out


def arrow_table(table: Table, columns: dict[str, object]) -> pa.Table:
    """Assemble columns in the exact file order with the file's types (int, float, str)."""
    missing = [c for c in table.column_names if c not in columns]
    if missing:
        raise ValueError(f"{table.file}: generator did not produce {missing}")
    arrays = []
    for col in table.columns:
        value = columns[col.name]
        if isinstance(value, Cat):
            arrays.append(value.to_arrow())
        elif col.dtype == "int":
            arrays.append(pa.array(np.asarray(value).astype(np.int64)))
        elif col.dtype == "float":
            arr = np.asarray(value, dtype=np.float64) + 0.0
            arrays.append(pa.array(arr, mask=np.isnan(arr)))
        else:
            arrays.append(pa.array(value, pa.string()))
    return pa.table(arrays, names=table.column_names)
