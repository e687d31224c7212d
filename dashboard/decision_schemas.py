"""Request and response models of the decision routes (CONTRACTS §7)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from dashboard.schemas import Record
from warehouse.decisions.rules import MAX_COMMENT

Kind = Literal["issued", "confirmed", "overridden", "contested", "reviewed"]
DecisionValue = Literal["grant", "refuse"]
ReviewStatus = Literal["open", "closed", "all"]


class DecisionIn(Record):
    """A decision to record. `issued`/`confirmed` take the published decision; `overridden`
    states `decision` and a justification in `comment` (at least a sentence); `contested`
    carries the client's point of view; `reviewed` concludes an open contest (four-eyes)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    kind: Kind
    decision: DecisionValue | None = None
    comment: str | None = Field(None, max_length=MAX_COMMENT)
    what_if_edits: dict[str, Any] | None = Field(
        None, description="the edited application fields the decision was taken on "
                          "(CONTRACTS §6 keys)")
    contest_code: str | None = Field(
        None, max_length=20,
        description="client view only: the code printed on the decision notice; a "
                    "'contested' entry posted with it is recorded with actor 'client' and "
                    "needs no advisor token")


class ReasonShown(Record):
    reason_code: str
    reason_text: str
    points: float


class DecisionEntry(Record):
    """One entry of the decision log, as stored (hash chain included)."""

    entry_id: int = Field(description="position in the log: 1, 2, 3… with no gap")
    sk_id_curr: int
    kind: Kind
    decision: DecisionValue = Field(description="the decision given (or contested)")
    model_version: str
    probability_default: float
    score: int
    threshold: float
    reasons: list[ReasonShown] = Field(description="the reasons shown when it was written")
    what_if_edits: dict[str, Any] | None
    actor: str = Field(description="advisor name, or 'client'")
    comment: str | None
    created_at: str = Field(json_schema_extra={"format": "date-time"},
                            description="RFC 3339, UTC, exactly as hashed")
    prev_hash: str
    entry_hash: str = Field(description="sha256 of the canonical JSON of the entry + prev_hash")


class DecisionHistory(Record):
    items: list[DecisionEntry] = Field(description="every entry of the client, oldest first")


class ReviewItem(Record):
    sk_id_curr: int
    status: Literal["open", "closed"]
    contested_entry_id: int
    contested_at: str = Field(json_schema_extra={"format": "date-time"})
    contested_by: str = Field(description="'client' or the advisor who recorded it")
    point_of_view: str | None
    decision: DecisionValue = Field(description="the decision contested")
    decided_by: str | None = Field(description="who gave it: the reviewer must be another "
                                               "advisor")
    decided_entry_id: int | None
    reviewed_entry_id: int | None


class ReviewQueue(Record):
    items: list[ReviewItem] = Field(description="contests, oldest first")
