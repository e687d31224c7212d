"""What an advisor (or a client) may append to a client's decision history, and with what.

Pure functions over the client's history so the store can apply them inside its serialised write
transaction: two reviewers racing on one contest cannot both pass the four-eyes check.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from i18n import Message
from warehouse.decisions.chain import DECISIONS, KINDS

CLIENT_ACTOR = "client"
GIVING_KINDS = ("issued", "confirmed", "overridden", "reviewed")   # kinds that give a decision
COMMENT_KINDS = ("overridden", "contested", "reviewed")
MIN_WORDS, MIN_CHARS = 3, 15        # "at least a sentence"
MAX_COMMENT = 4000
# CONTRACTS §6: the application fields a what-if may edit
EDITABLE_FIELDS = ("credit_amount", "annuity", "goods_price", "income", "years_employed",
                   "contract_type", "children", "family_members", "own_car", "own_realty")


ERROR_KEYS = ("decision_kind", "decision_value", "decision_comment_long",
              *(f"decision_comment_{kind}" for kind in COMMENT_KINDS), "decision_client_contests",
              "decision_edit_field", "decision_published", "decision_override_value",
              "decision_none_to_contest", "decision_none_to_review", "decision_contest_value",
              "decision_not_contested", "decision_four_eyes")


def catalogue_codes() -> list[tuple[str, str]]:
    """(msgctxt, msgid) of the rules' errors (i18n/pad.cfg extracts them)."""
    return [("error", key) for key in ERROR_KEYS]


class InvalidDecision(ValueError):
    """The requested entry breaks a rule (HTTP 422); the message says which and why (a coded
    message, catalogue msgctxt `error`: English as a str, other languages with
    i18n.localize)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(Message("error", key, **params))


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
        raise InvalidDecision("decision_kind", kinds=", ".join(KINDS), kind=repr(request.kind))
    if request.decision is not None and request.decision not in DECISIONS:
        raise InvalidDecision("decision_value", decision=repr(request.decision))
    if request.comment is not None and len(request.comment) > MAX_COMMENT:
        raise InvalidDecision("decision_comment_long", most=MAX_COMMENT)
    if request.kind in COMMENT_KINDS and not is_sentence(request.comment):
        raise InvalidDecision(f"decision_comment_{request.kind}", words=MIN_WORDS,
                              chars=MIN_CHARS)
    if request.actor == CLIENT_ACTOR and request.kind != "contested":
        raise InvalidDecision("decision_client_contests")
    unknown = sorted(set(request.what_if_edits or {}) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidDecision("decision_edit_field", field=repr(unknown[0]),
                              fields=", ".join(EDITABLE_FIELDS))


def resolve_decision(request: DecisionRequest, history: Sequence[Mapping[str, Any]],
                     published: Published) -> str:
    """Check the request against the client's history; return the decision the entry records."""
    check_shape(request)
    kind, given = request.kind, decision_in_force(history)
    if kind in ("issued", "confirmed"):
        if request.decision not in (None, published.decision):
            raise InvalidDecision("decision_published", published=published.decision,
                                  kind=kind, decision=request.decision)
        return published.decision
    if kind == "overridden":
        if request.decision is None:
            raise InvalidDecision("decision_override_value")
        return request.decision
    if given is None:
        raise InvalidDecision("decision_none_to_contest" if kind == "contested"
                              else "decision_none_to_review")
    if kind == "contested":
        if request.decision not in (None, given["decision"]):
            raise InvalidDecision("decision_contest_value", decision=given["decision"])
        return str(given["decision"])
    contest = open_contest(history)            # kind == "reviewed"
    if contest is None:
        raise InvalidDecision("decision_not_contested")
    if request.actor == given["actor"]:
        raise InvalidDecision("decision_four_eyes", actor=request.actor,
                              entry=str(given["entry_id"]))
    return request.decision or str(given["decision"])

