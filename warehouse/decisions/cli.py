"""`pad decisions verify|export`: the store opened read-only, errors mapped onto exit codes."""
from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa

from warehouse.config import PadPaths
from warehouse.decisions.anchor import copied_head, lost_since
from warehouse.decisions.export import write_parquet
from warehouse.decisions.store import DecisionStore
from warehouse.errors import BadInput, RunFailure

EXIT_OK, EXIT_BROKEN = 0, 1


def open_read_only(paths: PadPaths) -> DecisionStore:
    try:
        return DecisionStore.for_paths(paths, read_only=True)
    except (ValueError, sa.exc.ArgumentError) as exc:
        raise BadInput(f"PAD_DECISIONS_URL: {exc}") from None


def _entries(store: DecisionStore) -> list[dict]:
    try:
        return store.raw_entries()
    except sa.exc.SQLAlchemyError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        raise RunFailure(f"cannot read the decision store {store.describe()}: "
                         f"{first_line}") from None


def verify_log(paths: PadPaths) -> int:
    """Exit 0 when the chain is whole and continues the published copy, 1 naming the first
    broken entry."""
    from warehouse.decisions.chain import verify_chain

    store = open_read_only(paths)
    try:
        rows = _entries(store)
    finally:
        store.close()
    result = verify_chain(rows)
    # the chain cannot see its newest entries removed: the last refresh's copy can
    message = result.render() if not result.valid else lost_since(rows, copied_head(
        paths.warehouse))
    print(message or result.render(), file=sys.stderr if message else sys.stdout)
    return EXIT_BROKEN if message else EXIT_OK


def export_log(paths: PadPaths, out: Path) -> int:
    if out.suffix != ".parquet":
        raise BadInput(f"{out}: --out must name a .parquet file")
    store = open_read_only(paths)
    try:
        rows = write_parquet(_entries(store), out)
    finally:
        store.close()
    print(f"wrote {rows} decision entries to {out}")
    return EXIT_OK
