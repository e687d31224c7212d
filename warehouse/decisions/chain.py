"""The hash chain of the decision log: canonical JSON, entry hashes and verification.

Backend-independent: both stores hand rows here as plain dicts, so SQLite and PostgreSQL share
one definition of what an entry's hash covers. `entry_hash = sha256(canonical JSON of every field
of the entry except entry_hash, prev_hash included)`; the first entry's `prev_hash` is 64 zeros.
Canonical JSON = keys sorted, no whitespace, UTF-8, JSON columns (`reasons`, `what_if_edits`)
hashed as parsed values, so a change of formatting in the database is not a change of content.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
KINDS = ("issued", "confirmed", "overridden", "contested", "reviewed")
DECISIONS = ("grant", "refuse")
# stored as JSON text in both backends; hashed as the parsed value
JSON_FIELDS = ("reasons", "what_if_edits")
FIELDS = ("entry_id", "sk_id_curr", "kind", "decision", "model_version", "probability_default",
          "score", "threshold", "reasons", "what_if_edits", "actor", "comment", "created_at",
          "prev_hash", "entry_hash")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def hashed_content(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an entry's hash covers, JSON columns parsed."""
    content = {name: entry[name] for name in FIELDS if name != "entry_hash"}
    for name in JSON_FIELDS:
        if isinstance(content[name], str):
            content[name] = json.loads(content[name])
    for name in ("entry_id", "sk_id_curr", "score"):
        if content[name] is not None:
            content[name] = int(content[name])
    for name in ("probability_default", "threshold"):
        if content[name] is not None:
            content[name] = float(content[name])
    return content


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(hashed_content(entry)).encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain: `broken_entry` is the first entry that fails."""

    entries: int
    head_hash: str
    broken_entry: int | None = None
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.broken_entry is None

    def render(self) -> str:
        if self.valid:
            return f"decision log valid: {self.entries} entries, head {self.head_hash[:16]}…"
        return f"decision log broken at entry {self.broken_entry}: {self.reason}"


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> Verification:
    """Walk entries in entry_id order: ids must run 1, 2, 3…, each prev_hash must be the previous
    entry's hash and each entry_hash must match its content (an edit, a deletion or an
    insertion anywhere breaks the chain at the first entry affected)."""
    previous, count = GENESIS_HASH, 0
    for row in rows:
        count += 1
        entry_id = int(row["entry_id"])
        if entry_id != count:
            missing = min(entry_id, count)
            return Verification(count - 1, previous, missing,
                                f"entry ids jump from {count - 1} to {entry_id} "
                                "(an entry was deleted or inserted)")
        if row["prev_hash"] != previous:
            return Verification(count - 1, previous, entry_id,
                                "prev_hash does not match the previous entry's hash "
                                "(the previous entry was changed or removed)")
        if entry_hash(row) != row["entry_hash"]:
            return Verification(count - 1, previous, entry_id,
                                "entry_hash does not match the entry's content (it was edited)")
        previous = row["entry_hash"]
    return Verification(count, previous)
