"""Serving tables with many rows per client, read from memory one block of clients at a time.

`client_drivers`, `client_families`, `client_reasons` and `similar_clients` hold 20–50 rows per
client (7–18 million rows at full scale). A DuckDB point query on one of them costs ≈ 0.7 ms of
CPU whatever the client (it scans the whole row group holding the client), and the explanation
needs three: that was most of the API's CPU. Here a request reads its client's rows from numpy
arrays (≈ 0.02 ms); the arrays are filled one block of `BLOCK_CLIENTS` consecutive clients at a
time, by one range query, the first time a client of the block is asked for. A freshly opened
snapshot therefore answers its first request after one small query rather than after loading
whole tables, and only the blocks in use take memory.

Memory once every block is loaded (356k clients): text columns are stored as small integer
codes into per-block label lists, integers in the narrowest type that holds them, so about
30 bytes a row: ≈ 200 MB for drivers, 140 MB for families, 230 MB for similar clients.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from i18n import active_language
from models_ml.families import family_label, feature_label, reason_text

# clients per block: a block of drivers is ≈ 40k rows, one range query of a few milliseconds
BLOCK_CLIENTS = 2048
# text columns (English in the warehouse) → the code column of the same row they translate by
TEXT_BY_CODE: dict[str, tuple[str, Callable[[str, str, str], str]]] = {
    "feature_label": ("feature_name", feature_label),
    "family_label": ("family", family_label),
    "reason_text": ("reason_code", reason_text),
}


@dataclass(frozen=True)
class Block:
    """Rows of one table for one range of clients, ordered as the query asked."""

    ids: np.ndarray                    # client ids having rows here, ascending
    starts: np.ndarray                 # rows of ids[i] are starts[i]:starts[i + 1]
    columns: dict[str, np.ndarray]     # numbers (NULL = NaN), or codes of a text column
    labels: dict[str, list[Any]]       # text columns: code → text (code -1 → None)
    # (text column, language) → its labels in that language, made the first time asked
    translated: dict[tuple[str, str], list[Any]] = field(default_factory=dict, compare=False)

    def rows(self, sk_id_curr: int) -> dict[str, list[Any]]:
        """The client's rows as one list per column (empty lists when it has none); the text
        columns of TEXT_BY_CODE in the active language (i18n.context; none = English)."""
        at = int(np.searchsorted(self.ids, sk_id_curr))
        if at >= len(self.ids) or self.ids[at] != sk_id_curr:
            return {name: [] for name in self.columns}
        first, end = int(self.starts[at]), int(self.starts[at + 1])
        lang = active_language()
        out: dict[str, list[Any]] = {}
        for name, values in self.columns.items():
            part = values[first:end]
            chunk = part.tolist()
            labels = self._labels(name, lang)
            if labels is not None:
                chunk = [labels[c] for c in chunk]
            elif part.dtype.kind == "f" and not np.isfinite(part).all():
                # NULL (and NaN/inf, which JSON lacks) is served as null, as elsewhere
                chunk = [v if np.isfinite(v) else None for v in chunk]
            out[name] = chunk
        return out

    def _labels(self, name: str, lang: str | None) -> list[Any] | None:
        labels = self.labels.get(name)
        if labels is None or lang in (None, "en") or name not in TEXT_BY_CODE:
            return labels
        got = self.translated.get((name, lang))
        if got is None:
            got = self.translated[(name, lang)] = self._translate(name, lang)
        return got

    def _translate(self, name: str, lang: str) -> list[Any]:
        """The labels of a text column in `lang`, each by the code of a row that has it (the
        English text is a function of the code, so any such row will do)."""
        code_column, text_of = TEXT_BY_CODE[name]
        english = self.labels[name]
        out = list(english)
        if code_column not in self.labels:
            return out
        codes = self.labels[code_column]
        texts, first_row = np.unique(self.columns[name], return_index=True)
        for text, row in zip(texts.tolist(), first_row.tolist(), strict=True):
            code = codes[int(self.columns[code_column][row])]
            if text >= 0 and english[text] is not None and code is not None:
                out[text] = text_of(code, lang, english[text])
        return out


def _narrow(values: np.ndarray) -> np.ndarray:
    """Integers in the smallest type holding them (ranks fit in one byte)."""
    if values.dtype.kind != "i" or not len(values):
        return values
    return values.astype(np.result_type(np.min_scalar_type(int(values.min())),
                                        np.min_scalar_type(int(values.max()))))


def _column(array: pa.ChunkedArray) -> tuple[np.ndarray, list[Any] | None]:
    """(values, labels): text as codes + labels, numbers as numpy (NULL → NaN)."""
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        encoded = pc.dictionary_encode(array.combine_chunks())
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        labels = encoded.dictionary.to_pylist() + [None]   # code -1 reads the last label
        return _narrow(codes.astype(np.int64)), labels
    if pa.types.is_integer(array.type) and array.null_count == 0:
        return _narrow(array.to_numpy().astype(np.int64)), None
    return array.to_numpy().astype(float), None


def load_block(cur: duckdb.DuckDBPyConnection, sql: str, low: int, high: int) -> Block:
    """Run `sql` (first column sk_id_curr, `$1`/`$2` the inclusive id range, rows ordered by
    client) and keep its result as a `Block`."""
    table = cur.sql(sql, params=[low, high]).to_arrow_table()
    client = np.asarray(table.column(0).to_numpy(), dtype=np.int64)
    ids, starts = np.unique(client, return_index=True)
    columns, labels = {}, {}
    for name in table.column_names[1:]:
        columns[name], text = _column(table.column(name))
        if text is not None:
            labels[name] = text
    return Block(ids=ids, starts=np.append(starts, len(client)), columns=columns,
                 labels=labels)


@dataclass(frozen=True)
class BlockedTable:
    """One many-rows-per-client table of a snapshot, read through `Block`s.

    `sql` selects sk_id_curr then the wanted columns with `sk_id_curr between $1 and $2`,
    ordered by sk_id_curr then the row order the caller wants; `client_ids` are every
    client's id in ascending order (blocks are ranges of them)."""

    name: str
    sql: str
    client_ids: np.ndarray
    block_clients: int = BLOCK_CLIENTS

    def rows(self, cur: duckdb.DuckDBPyConnection, sk_id_curr: int,
             cached: Callable[[str, Callable[[], Block]], Block]) -> dict[str, list[Any]]:
        """The client's rows; `cached(key, compute)` is the snapshot's memo."""
        position = int(np.searchsorted(self.client_ids, sk_id_curr))
        number = position // self.block_clients
        first = number * self.block_clients
        last = min(first + self.block_clients, len(self.client_ids)) - 1
        if last < first:
            return {}
        low, high = int(self.client_ids[first]), int(self.client_ids[last])
        block = cached(f"block:{self.name}:{number}",
                       lambda: load_block(cur, self.sql, low, high))
        return block.rows(sk_id_curr)


def records(columns: dict[str, list[Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as dicts of the given columns."""
    return [dict(zip(names, values, strict=True))
            for values in zip(*(columns[n] for n in names), strict=True)]
