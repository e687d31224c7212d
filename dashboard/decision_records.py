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


def context_of(scored: Any, reasons: Any) -> Published:
    """The entry's context from a scored record (the published score row or a what-if answer)
    and the reasons shown with it."""
    return Published(model_version=str(_get(scored, "model_version")),
                     probability_default=float(_get(scored, "probability_default")),
                     score=int(_get(scored, "score")), threshold=float(_get(scored, "threshold")),
                     decision=str(_get(scored, "decision")),
                     reasons=[{"reason_code": _get(r, "reason_code"),
                               "reason_text": _get(r, "reason_text"),
                               "points": float(_get(r, "points"))} for r in reasons])


def published_context(source: ScoreSource, sk_id_curr: int) -> Published:
    """What the published warehouse shows for the client now (raises the lookup's
    ClientNotFound for an unknown id)."""
    score = source.score(sk_id_curr)
    return context_of(score, _get(source.explanation(sk_id_curr), "reasons"))


def simulated_context(source: Any, sk_id_curr: int, edits: dict[str, Any]) -> Published:
    """The edited application as the champion scores it (raises the lookup's InvalidRequest
    for an edit out of bounds)."""
    from dashboard.whatif_source import whatif_source

    simulated = whatif_source(source).what_if(sk_id_curr, edits)
    return context_of(simulated, simulated.reasons)


def record_decision(source: ScoreSource, store: DecisionStore, sk_id_curr: int,
                    request: DecisionRequest) -> dict[str, Any]:
    """Append the entry (rules checked under the store's write lock); returns it decoded."""
    if request.what_if_edits:
        check_shape(request)    # an edit no what-if accepts is refused before simulating it
        context = simulated_context(source, sk_id_curr, request.what_if_edits)
    else:
        context = published_context(source, sk_id_curr)
    return store.append(sk_id_curr, request, context)
