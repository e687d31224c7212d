"""The decision store: an append-only, hash-chained log in SQLite (WAL) or PostgreSQL.

One code path for both backends (SQLAlchemy Core); only the way appends are serialised differs,
so the chain never forks when several processes write:
- SQLite: every write transaction starts with `BEGIN IMMEDIATE` (the database's single writer
  lock, taken before the last entry is read), WAL journal, `synchronous=FULL`;
- PostgreSQL: a transaction-level advisory lock (`pg_advisory_xact_lock`) taken first.
Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL); the hash chain detects whoever
bypasses them. A read-only store (`read_only=True`, what the refresh uses) never creates the
schema: SQLite opens with `mode=ro`, PostgreSQL reads in a READ ONLY transaction.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event

from warehouse.config import PadPaths
from warehouse.decisions.chain import (
    FIELDS,
    GENESIS_HASH,
    Verification,
    canonical_json,
    entry_hash,
    verify_chain,
)
from warehouse.decisions.config import decisions_url
from warehouse.decisions.rules import GIVING_KINDS, DecisionRequest, Published, resolve_decision

TABLE = "decisions"
ADVISORY_LOCK_KEY = 0x5041445F44454331   # "PAD_DEC1": one lock id for every appender
metadata = sa.MetaData()
decisions = sa.Table(
    TABLE, metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sk_id_curr", sa.BigInteger, nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("model_version", sa.Text, nullable=False),
    sa.Column("probability_default", sa.Float(53), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Float(53), nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),
    sa.Column("what_if_edits", sa.Text),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("entry_hash", sa.Text, nullable=False, unique=True),
    sa.CheckConstraint("kind in ('issued','confirmed','overridden','contested','reviewed')",
                       name="decisions_kind"),
    sa.CheckConstraint("decision in ('grant','refuse')", name="decisions_decision"),
)
GUARDS = {
    "sqlite": [
        ("CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions "
         "BEGIN SELECT RAISE(ABORT, 'decisions is append-only'); END"),
        ("CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions "
         "BEGIN SELECT RAISE(ABORT, 'decisions is append-only'); END"),
    ],
    "postgresql": [
        ("CREATE OR REPLACE FUNCTION decisions_append_only() RETURNS trigger "
         "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'decisions is append-only'; END $$"),
        ("CREATE OR REPLACE TRIGGER decisions_no_change BEFORE UPDATE OR DELETE ON decisions "
         "FOR EACH ROW EXECUTE FUNCTION decisions_append_only()"),
        ("CREATE OR REPLACE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions "
         "FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only()"),
    ],
}


def utc_now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sqlite_engine(url: sa.URL, read_only: bool) -> sa.Engine:
    path = Path(url.database or "")
    if read_only:
        target = f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        target = url
    engine = sa.create_engine(target, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None   # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")   # a committed decision survives a crash
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # IMMEDIATE takes the write lock before the chain head is read: no two appends
        # can chain onto the same entry
        write = conn.get_execution_options().get("pad_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class DecisionStore:
    """The log behind one URL. Writers append through `append`; everything else reads."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = sa.make_url(url)
        self.read_only = read_only
        self.backend = self.url.get_backend_name()
        if self.backend == "sqlite":
            self.engine = _sqlite_engine(self.url, read_only)
        elif self.backend == "postgresql":
            self.engine = sa.create_engine(self.url, pool_size=8, max_overflow=8,
                                           pool_pre_ping=True)
        else:
            raise ValueError(f"unsupported decision store {self.url.render_as_string()}: "
                             "use a SQLite file or postgresql://")
        self._schema_ready = False
        # appends of one process queue here, in order, rather than in SQLite's busy handler
        # (which polls with sleeps of up to 100 ms: a long latency tail under 8 writers)
        self._append_lock = threading.Lock()

    @classmethod
    def for_paths(cls, paths: PadPaths, *, read_only: bool = False) -> DecisionStore:
        return cls(decisions_url(paths), read_only=read_only)

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions -------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        if self.read_only:
            raise PermissionError(f"{self.describe()} is open read-only")
        with self.engine.connect() as conn:
            conn.execution_options(pad_write=True)
            with conn.begin():
                if self.backend == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
                yield conn

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            if self.backend == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield conn

    def exists(self) -> bool:
        if self._schema_ready:
            return True
        if self.backend == "sqlite" and not Path(self.url.database or "").exists():
            return False
        with self._reading() as conn:
            self._schema_ready = sa.inspect(conn).has_table(TABLE)
        return self._schema_ready

    def ensure_schema(self) -> None:
        """Create the table and its append-only triggers (idempotent, serialised)."""
        if self._schema_ready:
            return
        with self._writing() as conn:
            if not sa.inspect(conn).has_table(TABLE):
                metadata.create_all(conn)
                for statement in GUARDS[self.backend]:
                    conn.exec_driver_sql(statement)
        self._schema_ready = True

    # --- writing ------------------------------------------------------------------------
    def append(self, sk_id_curr: int, request: DecisionRequest, published: Published,
               *, created_at: str | None = None) -> dict[str, Any]:
        """Check the request against the client's history and chain a new entry (atomic)."""
        self.ensure_schema()
        with self._append_lock, self._writing() as conn:
            history = self._history(conn, sk_id_curr)
            decision = resolve_decision(request, history, published)
            head = conn.execute(sa.select(decisions.c.entry_id, decisions.c.entry_hash)
                                .order_by(decisions.c.entry_id.desc()).limit(1)).first()
            entry: dict[str, Any] = {
                "entry_id": (head.entry_id + 1) if head else 1,
                "sk_id_curr": int(sk_id_curr),
                "kind": request.kind,
                "decision": decision,
                "model_version": published.model_version,
                "probability_default": float(published.probability_default),
                "score": int(published.score),
                "threshold": float(published.threshold),
                "reasons": canonical_json(published.reasons),
                "what_if_edits": (canonical_json(request.what_if_edits)
                                  if request.what_if_edits else None),
                "actor": request.actor,
                "comment": " ".join(request.comment.split()) if request.comment else None,
                "created_at": created_at or utc_now_rfc3339(),
                "prev_hash": head.entry_hash if head else GENESIS_HASH,
            }
            entry["entry_hash"] = entry_hash(entry)
            conn.execute(decisions.insert().values(**entry))
        return decode(entry)

    # --- reading ------------------------------------------------------------------------
    @staticmethod
    def _history(conn: sa.Connection, sk_id_curr: int) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(decisions).where(decisions.c.sk_id_curr == sk_id_curr)
                            .order_by(decisions.c.entry_id))
        return [dict(r._mapping) for r in rows]

    def history(self, sk_id_curr: int) -> list[dict[str, Any]]:
        """Every entry of one client, oldest first (JSON columns decoded)."""
        if not self.exists():
            return []
        with self._reading() as conn:
            return [decode(e) for e in self._history(conn, sk_id_curr)]

    def raw_entries(self) -> list[dict[str, Any]]:
        """Every entry as stored (JSON columns as text), in entry_id order, one snapshot."""
        if not self.exists():
            return []
        with self._reading() as conn:
            rows = conn.execute(sa.select(decisions).order_by(decisions.c.entry_id))
            return [dict(r._mapping) for r in rows]

    def entries(self) -> list[dict[str, Any]]:
        return [decode(e) for e in self.raw_entries()]

    def verify(self) -> Verification:
        return verify_chain(self.raw_entries())

    def recent(self, actor: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The latest entries, newest first (of one actor when given)."""
        if not self.exists():
            return []
        query = sa.select(decisions).order_by(decisions.c.entry_id.desc()).limit(limit)
        if actor is not None:
            query = query.where(decisions.c.actor == actor)
        with self._reading() as conn:
            return [decode(dict(r._mapping)) for r in conn.execute(query)]

    def decided_clients(self) -> set[int]:
        """Clients with at least one entry that gave a decision."""
        if not self.exists():
            return set()
        query = sa.select(decisions.c.sk_id_curr).distinct().where(
            decisions.c.kind.in_(GIVING_KINDS))
        with self._reading() as conn:
            return {int(r[0]) for r in conn.execute(query)}

    def reviews(self, status: str = "open") -> list[dict[str, Any]]:
        """Contests and their review: `open` = not yet reviewed, `closed`, or `all`."""
        by_client: dict[int, list[dict[str, Any]]] = {}
        for entry in self.entries():
            by_client.setdefault(entry["sk_id_curr"], []).append(entry)
        items = []
        for sk_id_curr, history in by_client.items():
            items += _review_items(sk_id_curr, history)
        if status != "all":
            items = [i for i in items if i["status"] == status]
        return sorted(items, key=lambda i: i["contested_at"])


def _review_items(sk_id_curr: int, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    in_force: dict[str, Any] | None = None
    for position, entry in enumerate(history):
        if entry["kind"] == "contested":
            review = next((e for e in history[position + 1:] if e["kind"] == "reviewed"), None)
            items.append({
                "sk_id_curr": sk_id_curr,
                "status": "open" if review is None else "closed",
                "contested_entry_id": entry["entry_id"],
                "contested_at": entry["created_at"],
                "contested_by": entry["actor"],
                "point_of_view": entry["comment"],
                "decision": entry["decision"],
                "decided_by": in_force["actor"] if in_force else None,
                "decided_entry_id": in_force["entry_id"] if in_force else None,
                "reviewed_entry_id": review["entry_id"] if review else None,
            })
        elif entry["kind"] in GIVING_KINDS:
            in_force = entry
    return items


def decode(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns parsed (the API and dashboard shape)."""
    out = {name: entry[name] for name in FIELDS}
    for name in ("reasons", "what_if_edits"):
        if isinstance(out[name], str):
            out[name] = json.loads(out[name])
    return out


def read_log(paths: PadPaths) -> list[dict[str, Any]]:
    """Every stored entry of PAD_HOME's store, opened read-only (what the refresh copies)."""
    store = DecisionStore.for_paths(paths, read_only=True)
    try:
        return store.raw_entries()
    finally:
        store.close()
