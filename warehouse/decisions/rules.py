"""What an advisor (or a client) may append to a client's decision history, and with what.

Pure functions over the client's history so the store can apply them inside its serialised write
transaction: two reviewers racing on one contest cannot both pass the four-eyes check.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from warehouse.decisions.chain import DECISIONS, KINDS

CLIENT_ACTOR = "client"
GIVING_KINDS = ("issued", "confirmed", "overridden", "reviewed")   # kinds that give a decision
COMMENT_KINDS = ("overridden", "contested", "reviewed")
MIN_WORDS, MIN_CHARS = 3, 15        # "at least a sentence"
MAX_COMMENT = 4000
# CONTRACTS §6: the application fields a what-if may edit
EDITABLE_FIELDS = ("credit_amount", "annuity", "goods_price", "income", "years_employed",
                   "contract_type", "children", "family_members", "own_car", "own_realty")


class InvalidDecision(ValueError):
    """The requested entry breaks a rule (HTTP 422); the message says which and why."""


@dataclass(frozen=True)
class Published:
    """What the published warehouse says about the client when the entry is written."""

    model_version: str
    probability_default: float
    score: int
    threshold: float
    decision: str
    reasons: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DecisionRequest:
    kind: str
    actor: str
    decision: str | None = None
    comment: str | None = None
    what_if_edits: dict[str, Any] | None = None


def is_sentence(text: str | None) -> bool:
    words = (text or "").split()
    return len(words) >= MIN_WORDS and len(" ".join(words)) >= MIN_CHARS


def decision_in_force(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest entry that gave a decision (None when none was ever given)."""
    return next((e for e in reversed(history) if e["kind"] in GIVING_KINDS), None)


def open_contest(history: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The latest contest not followed by a review, if any."""
    for entry in reversed(history):
        if entry["kind"] == "reviewed":
            return None
        if entry["kind"] == "contested":
            return entry
    return None


def check_shape(request: DecisionRequest) -> None:
    if request.kind not in KINDS:
        raise InvalidDecision(f"kind must be one of {', '.join(KINDS)}, not {request.kind!r}")
    if request.decision is not None and request.decision not in DECISIONS:
        raise InvalidDecision(f"decision must be 'grant' or 'refuse', not {request.decision!r}")
    if request.comment is not None and len(request.comment) > MAX_COMMENT:
        raise InvalidDecision(f"comment is longer than {MAX_COMMENT} characters")
    if request.kind in COMMENT_KINDS and not is_sentence(request.comment):
        what = {"overridden": "a justification", "contested": "the client's point of view",
                "reviewed": "the review's conclusion"}[request.kind]
        raise InvalidDecision(f"a '{request.kind}' entry needs {what} in 'comment': at least a "
                              f"sentence ({MIN_WORDS} words, {MIN_CHARS} characters)")
    if request.actor == CLIENT_ACTOR and request.kind != "contested":
        raise InvalidDecision("a client can only contest a decision")
    unknown = sorted(set(request.what_if_edits or {}) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidDecision(f"what_if_edits: {unknown[0]!r} is not an editable field "
                              f"({', '.join(EDITABLE_FIELDS)})")


def resolve_decision(request: DecisionRequest, history: Sequence[Mapping[str, Any]],
                     published: Published) -> str:
    """Check the request against the client's history; return the decision the entry records."""
    check_shape(request)
    kind, given = request.kind, decision_in_force(history)
    if kind in ("issued", "confirmed"):
        if request.decision not in (None, published.decision):
            raise InvalidDecision(f"the published decision is '{published.decision}': an "
                                  f"'{kind}' entry records it; use kind 'overridden' (with a "
                                  f"justification) to give '{request.decision}'")
        return published.decision
    if kind == "overridden":
        if request.decision is None:
            raise InvalidDecision("an 'overridden' entry needs the decision given "
                                  "('grant' or 'refuse')")
        return request.decision
    if given is None:
        raise InvalidDecision("this client has no decision yet: nothing to "
                              f"{'contest' if kind == 'contested' else 'review'}")
    if kind == "contested":
        if request.decision not in (None, given["decision"]):
            raise InvalidDecision(f"the decision in force is '{given['decision']}': a contest "
                                  "is recorded against it")
        return str(given["decision"])
    contest = open_contest(history)            # kind == "reviewed"
    if contest is None:
        raise InvalidDecision("nothing to review: the client's decision is not contested "
                              "(or the contest was already reviewed)")
    if request.actor == given["actor"]:
        raise InvalidDecision(f"four-eyes: {request.actor} gave the decision under review "
                              f"(entry {given['entry_id']}); another advisor must review it")
    return request.decision or str(given["decision"])

