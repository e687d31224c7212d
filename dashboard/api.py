"""The read-only HTTP lookup API (CONTRACTS §4): FastAPI over `dashboard.lookup`.

Owns routes, input validation and the mapping of lookup errors onto status codes: unknown
client → 404, malformed input → 422, no published warehouse → 503 (`/health` says why). User
input never reaches SQL except as a bound parameter or as a feature name the lookup checked
against the table's columns, so no input produces a 500.

Beyond the contract's routes, the dashboard's HTTP mode reads `/features`, `/portfolio`,
`/model/curves`, `/model/runs`, `/refresh-runs` and `/clients/{id}/scatter`.

Off loopback a bearer token is mandatory (`serve` refuses to start without one); when a token is
configured every route, the docs included, requires `Authorization: Bearer <token>`.
"""
from __future__ import annotations

import hmac
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from dashboard.api_decisions import add_decision_routes
from dashboard.config import (
    API_HOST,
    API_PORT,
    advisor_tokens,
    api_threads,
    api_token,
    is_loopback,
    lookup_threads,
)
from dashboard.lookup import (
    MAX_ID,
    MAX_LIMIT,
    SIMILAR_K,
    ClientNotFound,
    InvalidRequest,
    Lookup,
    WarehouseUnavailable,
)
from dashboard.schemas import (
    ClientPage,
    ClientRecord,
    ClientScore,
    Comparison,
    ComparisonGroup,
    Decision,
    Explanation,
    FeatureList,
    Health,
    ModelCurves,
    ModelRuns,
    ModelSummary,
    Population,
    Portfolio,
    RefreshRuns,
    RiskBand,
    Scatter,
    SimilarClients,
)
from warehouse.config import PadPaths, pad_paths
from warehouse.decisions import DecisionStore
from warehouse.errors import BadInput

ClientId = Annotated[int, PathParam(ge=0, le=MAX_ID, description="client id (SK_ID_CURR)")]
FeatureName = Annotated[str, Query(min_length=1, max_length=200,
                                   description="a feature name from GET /features")]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "unknown client"},
    422: {"description": "malformed input"},
    503: {"description": "no warehouse published yet"},
}


class BearerToken:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`, the
    service token or an advisor's."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]],
                 tokens: list[str]) -> None:
        self.app = app
        self.expected = [f"Bearer {token}".encode() for token in tokens]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers", [])).get(b"authorization", b"")
            # constant-time comparisons, all of them: no token may leak through timing
            matches = [hmac.compare_digest(given, e) for e in self.expected]
            if not any(matches):
                response = JSONResponse({"detail": "missing or wrong bearer token"},
                                        status_code=401,
                                        headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def worker_threads(_: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool the synchronous routes run in (see `api_threads`)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = api_threads()
    yield


def create_app(warehouse: Path, token: str | None = None, lookup: Lookup | None = None,
               decisions: DecisionStore | None = None,
               advisors: dict[str, str] | None = None) -> FastAPI:
    """The API app over the published warehouse file `warehouse` (the test entry point);
    decisions go to `decisions` (default: the store of the warehouse's PAD_HOME), written by
    the advisors of `advisors` (token → name, default PAD_ADVISOR_TOKENS)."""
    lookup = lookup or Lookup(warehouse, threads=lookup_threads())
    app = FastAPI(
        lifespan=worker_threads,
        title="Prêt à dépenser — lookup API",
        version="1.0",
        description="Read-only scores, explanations and comparisons of the published "
                    "warehouse (schema `serving`). Scores are points (higher = safer); "
                    "contributions are in points (> 0 raises the score) and log-odds of "
                    "default (> 0 raises the risk).",
        responses=ERRORS,
    )
    app.state.lookup = lookup
    _add_error_handlers(app)
    _add_routes(app, lookup)
    home = PadPaths(warehouse.parent)
    advisors = advisor_tokens() if advisors is None else advisors
    add_decision_routes(app, lookup, decisions or DecisionStore.for_paths(home), advisors, home)
    if token:
        app.add_middleware(BearerToken, tokens=[token, *advisors])
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClientNotFound)
    async def not_found(_: Request, exc: ClientNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidRequest)
    async def invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(WarehouseUnavailable)
    async def unavailable(_: Request, exc: WarehouseUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)


def _add_routes(app: FastAPI, lookup: Lookup) -> None:
    @app.get("/health", response_model=Health, tags=["service"])
    def health(response: Response) -> Health:
        """Whether a warehouse is published and what it serves (503 while none is)."""
        result = lookup.health()
        if result.status != "ok":
            response.status_code = 503
        return result

    @app.get("/clients", response_model=ClientPage, tags=["clients"])
    def search_clients(
        q: Annotated[str | None, Query(max_length=19, pattern=r"^[0-9]*$",
                                       description="first digits of the client id")] = None,
        population: Population | None = None,
        decision: Decision | None = None,
        risk_band: RiskBand | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> ClientPage:
        """Clients whose id starts with `q`, filtered, in id order, paginated."""
        return lookup.search_clients(q=q or None, population=population, decision=decision,
                                     risk_band=risk_band, limit=limit, offset=offset)

    @app.get("/clients/{sk_id_curr}", response_model=ClientRecord, tags=["clients"])
    def client(sk_id_curr: ClientId) -> ClientRecord:
        """The client's descriptive data (the `serving.clients` row)."""
        return lookup.client(sk_id_curr)

    @app.get("/clients/{sk_id_curr}/score", response_model=ClientScore, tags=["clients"])
    def score(sk_id_curr: ClientId) -> ClientScore:
        """Score, probability, decision and risk band (the `serving.client_scores` row)."""
        return lookup.score(sk_id_curr)

    @app.get("/clients/{sk_id_curr}/explanation", response_model=Explanation, tags=["clients"])
    def explanation(sk_id_curr: ClientId) -> Explanation:
        """Top contributions, all contributions by family, and the plain-language reasons."""
        return lookup.explanation(sk_id_curr)

    @app.get("/clients/{sk_id_curr}/comparison", response_model=Comparison, tags=["clients"])
    def comparison(sk_id_curr: ClientId, feature: FeatureName,
                   group: ComparisonGroup = "all") -> Comparison:
        """The client's value of a feature against all, similar or same-outcome clients."""
        return lookup.comparison(sk_id_curr, feature, group)

    @app.get("/clients/{sk_id_curr}/similar", response_model=SimilarClients, tags=["clients"])
    def similar(sk_id_curr: ClientId,
                k: Annotated[int, Query(ge=1, le=SIMILAR_K)] = 10) -> SimilarClients:
        """The k most similar history clients, nearest first."""
        return lookup.similar(sk_id_curr, k)

    @app.get("/clients/{sk_id_curr}/scatter", response_model=Scatter, tags=["dashboard"])
    def scatter(sk_id_curr: ClientId, x: FeatureName, y: FeatureName) -> Scatter:
        """Two features for a fixed sample of clients, and the client itself."""
        return lookup.scatter(sk_id_curr, x, y)

    @app.get("/features", response_model=FeatureList, tags=["dashboard"])
    def features() -> FeatureList:
        """Features available for comparisons, most important first."""
        return lookup.features()

    @app.get("/model", response_model=ModelSummary, tags=["model"])
    def model() -> ModelSummary:
        """The champion model: its run record, top importance, threshold and score scaling."""
        return lookup.model()

    @app.get("/model/curves", response_model=ModelCurves, tags=["dashboard"])
    def model_curves() -> ModelCurves:
        """ROC, calibration and cost-vs-threshold points (out-of-fold)."""
        return lookup.model_curves()

    @app.get("/model/runs", response_model=ModelRuns, tags=["dashboard"])
    def model_runs() -> ModelRuns:
        """Every registered model version, newest first."""
        return lookup.model_runs()

    @app.get("/portfolio", response_model=Portfolio, tags=["dashboard"])
    def portfolio() -> Portfolio:
        """Decisions, risk bands and score distribution of all scored clients."""
        return lookup.portfolio()

    @app.get("/refresh-runs", response_model=RefreshRuns, tags=["dashboard"])
    def refresh_runs(limit: Annotated[int, Query(ge=1, le=200)] = 20) -> RefreshRuns:
        """The latest refresh runs, newest first."""
        return lookup.refresh_runs(limit)


def check_binding(host: str, token: str | None) -> None:
    """Refuse an off-loopback API without a token (raises BadInput: exit code 2)."""
    if not is_loopback(host) and not token:
        raise BadInput(f"binding the API to {host} requires the environment variable "
                       f"PAD_API_TOKEN (clients then send 'Authorization: Bearer <token>')")


def serve(host: str = API_HOST, port: int = API_PORT, paths: PadPaths | None = None,
          token: str | None = None) -> None:
    """Serve the API in the foreground (`pad api`) until interrupted.

    `token` defaults to PAD_API_TOKEN; it is mandatory when `host` is not a loopback address.
    """
    import uvicorn

    paths = paths or pad_paths()
    token = token or api_token()
    check_binding(host, token)
    try:
        advisors = advisor_tokens()
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    app = create_app(paths.warehouse, token=token, advisors=advisors)
    auth = " (bearer token required)" if token else ""
    print(f"pad api: serving {paths.warehouse} at http://{host}:{port}/ — docs at /docs{auth}",
          file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
