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

import gc
import hmac
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from dashboard.api_common import (
    NOT_FOUND,
    UNREADABLE_BODY,
    ClientId,
    FeatureName,
    app_responses,
    json_response,
)
from dashboard.api_decisions import add_decision_routes
from dashboard.api_language import RequestLanguage, current_language, error_detail, localized
from dashboard.api_whatif import whatif_router
from dashboard.config import (
    API_HOST,
    API_PORT,
    advisor_tokens,
    api_threads,
    api_token,
    api_warm,
    is_loopback,
    lookup_threads,
)
from dashboard.fast_lane import FastLane
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

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


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
async def start_up(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool the synchronous routes run in (see `api_threads`), and load the
    published warehouse into memory before serving the first request when `app.state.warm`
    (see `api_warm`)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = api_threads()
    if app.state.warm:
        await anyio.to_thread.run_sync(app.state.lookup.warm)
        # the warmed caches hold many objects; out of the cyclic collector's reach, a full
        # collection no longer walks them in the middle of a request (as in the dashboard)
        gc.collect()
        gc.freeze()
    yield


def create_app(warehouse: Path, token: str | None = None, lookup: Lookup | None = None,
               decisions: DecisionStore | None = None,
               advisors: dict[str, str] | None = None, warm: bool | None = None) -> FastAPI:
    """The API app over the published warehouse file `warehouse` (the test entry point);
    decisions go to `decisions` (default: the store of the warehouse's PAD_HOME), written by
    the advisors of `advisors` (token → name, default PAD_ADVISOR_TOKENS).

    Routers of other concerns are added here with one line each; their routes get the token
    check, the documented error statuses and the error handlers."""
    warm = api_warm() if warm is None else warm
    lookup = lookup or Lookup(warehouse, threads=lookup_threads(), warm_publishes=warm)
    app = FastAPI(
        lifespan=start_up,
        title="Prêt à dépenser — lookup API",
        version="1.0",
        description="Read-only scores, explanations and comparisons of the published "
                    "warehouse (schema `serving`). Scores are points (higher = safer); "
                    "contributions are in points (> 0 raises the score) and log-odds of "
                    "default (> 0 raises the risk). Timestamps are UTC, RFC 3339. Texts "
                    "(labels, reasons, recourse sentences, error details) are in the language "
                    "of `Accept-Language`, English (`en`) or French (`fr`), English when "
                    "absent or unknown; `Content-Language` says which. Codes and field names "
                    "never change.",
        responses=app_responses(token=bool(token)),
    )
    app.state.lookup = lookup
    app.state.warm = warm
    _add_error_handlers(app)
    app.include_router(lookup_router(lookup))
    home = PadPaths(warehouse.parent)
    advisors = advisor_tokens() if advisors is None else advisors
    add_decision_routes(app, lookup, decisions or DecisionStore.for_paths(home), advisors, home)
    app.include_router(whatif_router(lookup))
    # the fast lane inside the token check (middleware added later wraps earlier ones)
    app.add_middleware(FastLane, lookup=lookup)
    if token:
        app.add_middleware(BearerToken, tokens=[token, *advisors])
    app.add_middleware(RequestLanguage)     # outermost: every answer says its language
    _complete_openapi(app, token=bool(token))
    return app


def _complete_openapi(app: FastAPI, token: bool) -> None:
    """What FastAPI leaves out of the OpenAPI document: the 400 it answers itself to a body
    that is not JSON text (every operation with a body), and, with a token, the bearer scheme
    (the docs page's Authorize button)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("400", UNREADABLE_BODY)
            if token:
                schema.setdefault("components", {}).setdefault("securitySchemes", {})[
                    "bearer"] = {"type": "http", "scheme": "bearer"}
                schema["security"] = [{"bearer": []}]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_error_handlers(app: FastAPI) -> None:
    def detail(request: Request, exc: Exception) -> str:
        return error_detail(exc, current_language())

    @app.exception_handler(ClientNotFound)
    async def not_found(request: Request, exc: ClientNotFound) -> JSONResponse:
        return JSONResponse({"detail": detail(request, exc)}, status_code=404)

    @app.exception_handler(InvalidRequest)
    async def invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse({"detail": detail(request, exc)}, status_code=422)

    @app.exception_handler(WarehouseUnavailable)
    async def unavailable(request: Request, exc: WarehouseUnavailable) -> JSONResponse:
        return JSONResponse({"detail": detail(request, exc)}, status_code=503)


def lookup_router(lookup: Lookup) -> APIRouter:
    """The read-only routes over `lookup` (CONTRACTS §4 and the dashboard's). Each returns its
    record serialised once (`json_response`); `response_model` documents it."""
    router = APIRouter()

    @router.get("/health", response_model=Health, tags=["service"],
                responses={503: {"model": Health, "description": "no warehouse published yet"}})
    def health() -> Response:
        """Whether a warehouse is published and what it serves (503 while none is)."""
        result = lookup.health()
        return json_response(result, 200 if result.status == "ok" else 503)

    @router.get("/clients", response_model=ClientPage, tags=["clients"])
    def search_clients(
        q: Annotated[str | None, Query(max_length=19, pattern=r"^[0-9]*$",
                                       description="first digits of the client id")] = None,
        population: Population | None = None,
        decision: Decision | None = None,
        risk_band: RiskBand | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> Response:
        """Clients whose id starts with `q`, filtered, in id order, paginated."""
        return json_response(lookup.search_clients(
            q=q or None, population=population, decision=decision, risk_band=risk_band,
            limit=limit, offset=offset))

    @router.get("/clients/{sk_id_curr}", response_model=ClientRecord, tags=["clients"],
                responses=NOT_FOUND)
    def client(sk_id_curr: ClientId) -> Response:
        """The client's descriptive data (the `serving.clients` row)."""
        return json_response(lookup.client(sk_id_curr))

    @router.get("/clients/{sk_id_curr}/score", response_model=ClientScore, tags=["clients"],
                responses=NOT_FOUND)
    def score(sk_id_curr: ClientId) -> Response:
        """Score, probability, decision and risk band (the `serving.client_scores` row)."""
        return json_response(lookup.score(sk_id_curr))

    @router.get("/clients/{sk_id_curr}/explanation", response_model=Explanation,
                tags=["clients"], responses=NOT_FOUND)
    def explanation(sk_id_curr: ClientId) -> Response:
        """Top contributions, all contributions by family, and the plain-language reasons."""
        return json_response(lookup.explanation(sk_id_curr))

    @router.get("/clients/{sk_id_curr}/comparison", response_model=Comparison,
                tags=["clients"], responses=NOT_FOUND)
    def comparison(sk_id_curr: ClientId, feature: FeatureName,
                   group: ComparisonGroup = "all") -> Response:
        """The client's value of a feature against all, similar or same-outcome clients."""
        return json_response(localized(lookup.comparison(sk_id_curr, feature, group),
                                       current_language()))

    @router.get("/clients/{sk_id_curr}/similar", response_model=SimilarClients,
                tags=["clients"], responses=NOT_FOUND)
    def similar(sk_id_curr: ClientId,
                k: Annotated[int, Query(ge=1, le=SIMILAR_K)] = 10) -> Response:
        """The k most similar history clients, nearest first."""
        return json_response(lookup.similar(sk_id_curr, k))

    @router.get("/clients/{sk_id_curr}/scatter", response_model=Scatter, tags=["dashboard"],
                responses=NOT_FOUND)
    def scatter(sk_id_curr: ClientId, x: FeatureName, y: FeatureName) -> Response:
        """Two features for a fixed sample of clients, and the client itself."""
        return json_response(localized(lookup.scatter(sk_id_curr, x, y), current_language()))

    @router.get("/features", response_model=FeatureList, tags=["dashboard"])
    def features() -> Response:
        """Features available for comparisons, most important first."""
        return json_response(localized(lookup.features(), current_language()))

    @router.get("/model", response_model=ModelSummary, tags=["model"])
    def model() -> Response:
        """The champion model: its run record, top importance, threshold and score scaling."""
        return json_response(localized(lookup.model(), current_language()))

    @router.get("/model/curves", response_model=ModelCurves, tags=["dashboard"])
    def model_curves() -> Response:
        """ROC, calibration and cost-vs-threshold points (out-of-fold)."""
        return json_response(lookup.model_curves())

    @router.get("/model/runs", response_model=ModelRuns, tags=["dashboard"])
    def model_runs() -> Response:
        """Every registered model version, newest first."""
        return json_response(lookup.model_runs())

    @router.get("/portfolio", response_model=Portfolio, tags=["dashboard"])
    def portfolio() -> Response:
        """Decisions, risk bands and score distribution of all scored clients."""
        return json_response(lookup.portfolio())

    @router.get("/refresh-runs", response_model=RefreshRuns, tags=["dashboard"])
    def refresh_runs(limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Response:
        """The latest refresh runs, newest first."""
        return json_response(lookup.refresh_runs(limit))

    return router


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
