"""The typed records the lookup layer returns, the API serialises and the dashboard reads.

Field names follow CONTRACTS §3/§4 (the `serving` columns and the API response shapes). The
same classes parse the API's JSON in the dashboard's HTTP client, so both data paths of the
dashboard see identical objects.

Every timestamp is `UtcDatetime`: timezone-aware UTC whatever the warehouse column type was
(a naive value means UTC, CONTRACTS §3), so the JSON always carries an offset (RFC 3339, as
the OpenAPI `format: date-time` promises). Records that pass extra columns through convert
the timestamps among those too.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

Population = Literal["history", "pending"]
Decision = Literal["grant", "refuse"]
RiskBand = Literal["A", "B", "C", "D", "E"]
ComparisonGroup = Literal["all", "similar", "outcome"]




def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive value is taken as UTC (the warehouse stores UTC, §3)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def utc_jsonable(value: Any) -> Any:
    """A JSON-ready value: datetimes as UTC RFC 3339 strings, other values unchanged."""
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


class Record(BaseModel):
    """Base of every record: fields named `model_*` are data here, not pydantic internals."""

    model_config = ConfigDict(protected_namespaces=())


class OpenRecord(Record):
    """A record that passes through columns beyond its declared fields (a later warehouse may
    add some); timestamps among them are made UTC like the declared ones."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    @model_validator(mode="after")
    def _extra_timestamps_in_utc(self) -> OpenRecord:
        extra = self.__pydantic_extra__
        if extra:
            for key, value in extra.items():
                if isinstance(value, datetime):
                    extra[key] = as_utc(value)
        return self


class Health(Record):
    status: Literal["ok", "unavailable"]
    detail: str = Field(description="why the warehouse is unavailable, or a one-line summary")
    warehouse: str = Field(description="path of the published warehouse file")
    published_at: UtcDatetime | None = Field(None, description="modification time of the file")
    model_version: str | None = None
    clients: int | None = None


class ClientSummary(Record):
    sk_id_curr: int
    population: str
    decision: str | None
    score: int | None
    risk_band: str | None


class ClientPage(Record):
    items: list[ClientSummary]
    total: int = Field(description="clients matching the search and filters")
    limit: int
    offset: int


class ClientRecord(OpenRecord):
    """One `serving.clients` row: descriptive data in human units (null = unknown)."""

    sk_id_curr: int
    population: str
    target: int | None = Field(None, description="1 = payment difficulties; null when pending")
    age_years: int | None = None
    gender: str | None = None
    family_status: str | None = None
    children: int | None = None
    education: str | None = None
    income_type: str | None = None
    occupation: str | None = None
    organization: str | None = None
    years_employed: float | None = Field(None, description="null = not employed")
    income: float | None = None
    credit_amount: float | None = None
    annuity: float | None = None
    goods_price: float | None = None
    contract_type: str | None = None
    own_car: bool | None = None
    own_realty: bool | None = None
    region_rating: int | None = None
    ext_source_1: float | None = None
    ext_source_2: float | None = None
    ext_source_3: float | None = None
    bureau_loans: int | None = None
    bureau_active_loans: int | None = None
    previous_applications: int | None = None
    previous_refused: int | None = None


class ClientScore(Record):
    """One `serving.client_scores` row."""

    sk_id_curr: int
    model_version: str
    probability_default: float = Field(description="probability of payment difficulties, 0–1")
    score: int = Field(description="points, higher = safer")
    decision: str = Field(description="'grant' or 'refuse'")
    threshold: float = Field(description="probability at and above which the model refuses")
    score_cutoff: float = Field(description="the threshold in points: refuse below it")
    risk_band: str = Field(description="'A' (safest) … 'E'")
    scored_at: UtcDatetime


class Driver(Record):
    rank: int
    feature_name: str
    feature_label: str
    family: str
    feature_value: float | None = Field(description="the client's value; null = missing")
    shap_value: float = Field(description="log-odds of default; > 0 raises the risk")
    points: float = Field(description="score points; > 0 raises the score (safer)")


class FamilyContribution(Record):
    family: str
    family_label: str
    shap_value: float
    points: float


class Reason(Record):
    rank: int
    reason_code: str
    reason_text: str
    points: float


class Explanation(Record):
    sk_id_curr: int
    model_version: str
    base_value: float = Field(
        description="SHAP base value in log-odds of default (the model's average output): "
                    "base_value + the sum of the family shap_values = the client's log-odds")
    base_points: float = Field(
        description="the base value in score points, where the waterfall starts: "
                    "base_points + the sum of the family points = the unrounded score")
    score: int
    drivers: list[Driver]
    families: list[FamilyContribution]
    reasons: list[Reason]


class Bin(Record):
    bin_low: float
    bin_high: float
    clients: int
    group: str = Field(description="'all', 'outcome_0', 'outcome_1', 'pending' or 'similar'")


class Comparison(Record):
    feature_name: str
    feature_label: str
    client_value: float | None
    bins: list[Bin]


class SimilarClient(Record):
    sk_id_curr: int
    distance: float
    target: int | None
    score: int | None
    decision: str | None


class SimilarClients(Record):
    items: list[SimilarClient]


class Feature(Record):
    """A feature the comparison page can plot (a column of serving.client_feature_values)."""

    feature_name: str
    feature_label: str
    family: str | None = None
    description: str | None = None
    rank: int | None = Field(None, description="importance rank in the champion model")


class FeatureList(Record):
    items: list[Feature]


class ScatterPoint(Record):
    sk_id_curr: int
    x: float | None
    y: float | None
    group: str = Field(description="'repaid', 'difficulties' or 'pending'")


class Scatter(Record):
    x_feature: Feature
    y_feature: Feature
    client: ScatterPoint
    points: list[ScatterPoint] = Field(description="the precomputed sample of clients")


class ImportanceItem(Record):
    rank: int
    feature_name: str
    feature_label: str
    family: str | None = None
    mean_abs_shap: float
    gain: float | None = None


class ScoreScaling(Record):
    """score = offset + factor · ln(odds of repayment)."""

    offset: float
    factor: float
    pdo: float = Field(description="points to double the odds (factor · ln 2)")
    score_cutoff: float | None = Field(description="the decision threshold in points")
    source: Literal["model_runs", "params", "derived"] = Field(
        description="where the constants come from: the model_runs row, the model's params, "
                    "or 'derived' = solved from the published scores and contributions")


class ModelRun(OpenRecord):
    """One `serving.model_runs` row (columns beyond the contract's are passed through)."""

    model_version: str
    trained_at: UtcDatetime | None
    is_champion: bool
    n_train: int | None
    n_features: int | None
    oof_auc: float | None
    fold_auc_mean: float | None
    fold_auc_std: float | None
    brier: float | None
    log_loss: float | None
    ks: float | None
    threshold: float | None
    expected_cost: float | None
    params: dict[str, Any] = Field(default_factory=dict)


class ModelSummary(ModelRun):
    """The champion's run + what explains its decisions."""

    importance: list[ImportanceItem]
    score_scaling: ScoreScaling


class ModelRuns(Record):
    items: list[ModelRun]


class CurvePoint(Record):
    curve: str = Field(description="'roc', 'calibration' or 'cost'")
    x: float
    y: float


class ModelCurves(Record):
    model_version: str | None
    points: list[CurvePoint]


class PortfolioDecision(Record):
    population: str
    decision: str
    clients: int


class PortfolioBand(Record):
    risk_band: str
    clients: int
    min_score: int
    max_score: int
    mean_probability: float
    history_clients: int
    default_rate: float | None = Field(description="observed share with difficulties among "
                                                   "history clients whose OUT-OF-FOLD prediction "
                                                   "falls in the band (serving.band_outcomes)")


class ScoreBin(Record):
    bin_low: float
    bin_high: float
    decision: str
    clients: int


class Portfolio(Record):
    clients: int
    model_version: str | None
    score_cutoff: float | None
    decisions: list[PortfolioDecision]
    bands: list[PortfolioBand]
    score_histogram: list[ScoreBin]


class RefreshRuns(Record):
    """Recent `serving.refresh_runs` rows, newest first (columns as the run log has them;
    `started_at` and `finished_at` as UTC RFC 3339 strings)."""

    items: list[dict[str, Any]]

    @field_validator("items")
    @classmethod
    def _timestamps_in_utc(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: utc_jsonable(v) for k, v in item.items()} for item in items]
