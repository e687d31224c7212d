"""Recording a decision from the API or the dashboard: the published context of the client
(score, model, reasons shown) joined to the advisor's request, appended to the store.

One function for both writers so the API and the dashboard record exactly the same entry.
`source` is anything with the lookup's `score(id)` and `explanation(id)` (the in-process
`Lookup` or the dashboard's HTTP source). A decision taken on an edited application records
what the champion says of that application (the what-if), not the published score.
"""
from __future__ import annotations

from typing import Any, Protocol

from warehouse.decisions import DecisionRequest, DecisionStore, Published
from warehouse.decisions.rules import check_shape


class ScoreSource(Protocol):
    def score(self, sk_id_curr: int) -> Any: ...

    def explanation(self, sk_id_curr: int) -> Any: ...


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def published_context(source: ScoreSource, sk_id_curr: int) -> Published:
    """What the published warehouse shows for the client now (raises the lookup's
    ClientNotFound for an unknown id)."""
    score = source.score(sk_id_curr)
    reasons = [{"reason_code": _get(r, "reason_code"), "reason_text": _get(r, "reason_text"),
                "points": float(_get(r, "points"))}
               for r in _get(source.explanation(sk_id_curr), "reasons")]
    return Published(model_version=str(_get(score, "model_version")),
                     probability_default=float(_get(score, "probability_default")),
                     score=int(_get(score, "score")), threshold=float(_get(score, "threshold")),
                     decision=str(_get(score, "decision")), reasons=reasons)


def simulated_context(source: Any, sk_id_curr: int, edits: dict[str, Any]) -> Published:
    """The edited application as the champion scores it (raises the lookup's InvalidRequest
    for an edit out of bounds)."""
    from dashboard.whatif_source import whatif_source

    simulated = whatif_source(source).what_if(sk_id_curr, edits)
    reasons = [{"reason_code": r.reason_code, "reason_text": r.reason_text,
                "points": float(r.points)} for r in simulated.reasons]
    return Published(model_version=simulated.model_version,
                     probability_default=float(simulated.probability_default),
                     score=int(simulated.score), threshold=float(simulated.threshold),
                     decision=str(simulated.decision), reasons=reasons)


def record_decision(source: ScoreSource, store: DecisionStore, sk_id_curr: int,
                    request: DecisionRequest) -> dict[str, Any]:
    """Append the entry (rules checked under the store's write lock); returns it decoded."""
    if request.what_if_edits:
        check_shape(request)    # an edit no what-if accepts is refused before simulating it
        context = simulated_context(source, sk_id_curr, request.what_if_edits)
    else:
        context = published_context(source, sk_id_curr)
    return store.append(sk_id_curr, request, context)
