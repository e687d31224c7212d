"""The decision record (CONTRACTS §7): an append-only, hash-chained log of the decisions
advisors give, outside the published warehouse. Lower layer than the API (which writes) and the
refresh (which copies it read-only into `serving.decisions`)."""
from warehouse.decisions.chain import Verification, verify_chain
from warehouse.decisions.rules import DecisionRequest, InvalidDecision, Published
from warehouse.decisions.store import DecisionStore

__all__ = ["DecisionRequest", "DecisionStore", "InvalidDecision", "Published", "Verification",
           "verify_chain"]
