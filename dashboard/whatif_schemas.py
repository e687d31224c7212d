"""Request and response shapes of the what-if and recourse routes (CONTRACTS §6).

The edit bounds are the real minimums and maximums of models_ml.whatif.FIELDS, enforced by
pydantic, so no value a client (or a fuzzer) can send reaches the scoring unchecked: an unknown
key, a null where a value is needed, NaN/infinity or an out-of-range value is a 422 naming the
field. The bounds that depend on the client (credit ≤ 10 × the published credit, annuity ≤
credit, goods price ≤ 10 × credit, family members ≥ children + 1) are checked by the lookup
against the published application, also as 422s naming the field.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from dashboard.schemas import Decision, Driver, FamilyContribution, Reason, Record, RiskBand
from models_ml.whatif import CONTRACT_TYPES, FIELDS

Lever = Literal["credit_amount", "annuity", "down_payment"]


def _edit_field(name: str) -> tuple[Any, Any]:
    spec = FIELDS[name]
    if spec.kind == "flag":
        return bool, Field(default=None, description=spec.label)
    if spec.kind == "choice":
        return Literal[CONTRACT_TYPES], Field(default=None, description=spec.label)
    bounds = {"ge": spec.low, "le": spec.high, "description": spec.label}
    if spec.kind == "years":
        # null is a value here: "not employed"
        return float | None, Field(default=None, **bounds)
    return (int if spec.kind == "count" else float), Field(default=None, **bounds)


class _EditsBase(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Edits = create_model(
    "Edits", __base__=_EditsBase, __doc__="Editable application fields; absent = as published.",
    **{name: _edit_field(name) for name in FIELDS})


def edits_dict(edits: BaseModel) -> dict[str, Any]:
    """Only the keys the caller sent (an explicit null years_employed = not employed)."""
    return {name: getattr(edits, name) for name in edits.model_fields_set}


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edits: Edits = Field(default_factory=Edits)  # type: ignore[valid-type]


class PublishedScore(Record):
    probability_default: float
    score: int
    decision: Decision


class WhatIf(Record):
    """A simulation: the edited application scored by the champion. Nothing is stored."""

    sk_id_curr: int
    model_version: str
    edits: dict[str, Any]
    probability_default: float
    score: int
    decision: Decision
    risk_band: RiskBand
    threshold: float
    score_cutoff: int
    base_value: float = Field(description="SHAP base value, log-odds of default")
    base_points: float = Field(description="the base value in points (waterfall start)")
    drivers: list[Driver]
    families: list[FamilyContribution]
    reasons: list[Reason]
    published: PublishedScore
    delta_points: int = Field(description="score − the published score")


class RecourseOption(Record):
    lever: Lever
    edits: dict[str, Any] = Field(description="complete edits: posted to /what-if they grant")
    score: int
    probability_default: float
    text: str
    text_code: str


class Recourse(Record):
    sk_id_curr: int
    model_version: str
    decision: Decision = Field(description="the decision of the application the options "
                                           "start from (published, or edited when posted)")
    options: list[RecourseOption]
    reachable: bool = Field(description="false when no option within the bounds grants (or "
                                        "the application is already granted)")


class Application(Record):
    """The client's editable fields as published (human units; years_employed null = not
    employed) — what a what-if form starts from."""

    sk_id_curr: int
    credit_amount: float | None
    annuity: float | None
    goods_price: float | None
    income: float | None
    years_employed: float | None
    contract_type: str | None
    children: int | None
    family_members: int | None
    own_car: bool | None
    own_realty: bool | None
