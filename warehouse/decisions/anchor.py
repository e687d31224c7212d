"""The head of the log as the last refresh copied it: an anchor outside the store.

A chain detects any edit, deletion or insertion before its head, but removing the newest
entries leaves a valid shorter chain. The copy in the published warehouse
(`serving.decisions`) remembers how far the log went; a store that no longer continues it lost
or rewrote entries.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.decisions.chain import GENESIS_HASH


@dataclass(frozen=True)
class LogHead:
    entries: int
    head_hash: str


def copied_head(warehouse: Path) -> LogHead | None:
    """Entries and head hash of `serving.decisions` in a published file (None: no copy yet)."""
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("select count(*), arg_max(entry_hash, entry_id) "
                          "from serving.decisions").fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return LogHead(int(row[0]), row[1] or GENESIS_HASH)


def head_of(rows: Sequence[Mapping[str, Any]]) -> LogHead:
    return LogHead(len(rows), rows[-1]["entry_hash"] if rows else GENESIS_HASH)


def lost_since(rows: Sequence[Mapping[str, Any]], anchor: LogHead | None) -> str | None:
    """Why the log does not continue `anchor` (None when it does, or when there is none)."""
    if anchor is None or anchor.entries == 0:
        return None
    if len(rows) >= anchor.entries and rows[anchor.entries - 1]["entry_hash"] == anchor.head_hash:
        return None
    return (f"decision log broken at entry {min(len(rows) + 1, anchor.entries)}: the copy in "
            f"the published warehouse ends at entry {anchor.entries} "
            f"({anchor.head_hash[:16]}…), the store holds {len(rows)} entries that do not "
            "continue it (entries removed or rewritten)")
