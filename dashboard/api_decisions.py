"""Decision routes of the API (CONTRACTS §7): record and read the decision log.

Writes need an identified actor, on loopback too: an advisor token
(`Authorization: Bearer <token>`, tokens from PAD_ADVISOR_TOKENS) — or, for a contest only, the
client's contest code printed on their decision notice (recorded with actor 'client'). Reads
follow the API's rule: open on loopback, any valid token off loopback (the middleware).
"""
from __future__ import annotations

import functools
import hmac
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse

from dashboard.api_language import current_language, error_detail
from dashboard.decision_records import record_decision
from dashboard.decision_schemas import (
    DecisionEntry,
    DecisionHistory,
    DecisionIn,
    ReviewQueue,
    ReviewStatus,
)
from dashboard.lookup import MAX_ID, Lookup
from i18n import Message
from warehouse.config import PadPaths
from warehouse.decisions import DecisionRequest, DecisionStore, InvalidDecision
from warehouse.decisions.contest import contest_key, is_contest_code
from warehouse.decisions.rules import CLIENT_ACTOR

ClientId = Annotated[int, PathParam(ge=0, le=MAX_ID, description="client id (SK_ID_CURR)")]
WRITE_ERRORS: dict[int | str, dict] = {
    401: {"description": "no advisor token (or contest code), or an unknown one"},
    404: {"description": "unknown client"},
    422: {"description": "malformed input or a transition the rules refuse"},
    503: {"description": "no warehouse published yet, or the decision store is unreachable"},
}
READ_ERRORS = {k: v for k, v in WRITE_ERRORS.items() if k != 422} | {
    401: {"description": "a token is configured and none (or an unknown one) was sent"},
    422: {"description": "malformed input"}}


def advisor_named(authorization: str | None, advisors: dict[str, str]) -> str | None:
    """The advisor whose token is in the header (constant-time comparisons), else None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    given = authorization.removeprefix("Bearer ").strip().encode()
    found = None
    for token, name in advisors.items():
        if hmac.compare_digest(given, token.encode()):
            found = name
    return found


def _said(message: Message) -> str:
    """A coded error message in the request's language."""
    return message.in_language(current_language())


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def decisions_router(lookup: Lookup, store: DecisionStore, advisors: dict[str, str],
                     home: PadPaths) -> APIRouter:
    """The routes over one store; `advisors` maps token → advisor name; the contest key is
    read (or created) under `home` on the first contest only."""
    router = APIRouter(tags=["decisions"])
    key = functools.cache(lambda: contest_key(home))

    def actor_for(sk_id_curr: int, body: DecisionIn, authorization: str | None) -> str:
        if body.contest_code is not None:
            if body.kind != "contested":
                raise HTTPException(422, detail=_said(Message("error", "contest_code_kind")))
            if not is_contest_code(key(), sk_id_curr, body.contest_code):
                raise _unauthorized(_said(Message("error", "contest_code_wrong",
                                            sk_id_curr=str(sk_id_curr))))
            return CLIENT_ACTOR
        name = advisor_named(authorization, advisors)
        if name is None:
            raise _unauthorized("recording a decision needs an advisor token "
                                "(Authorization: Bearer <token> from PAD_ADVISOR_TOKENS)"
                                + ("" if authorization else ": none was sent"))
        return name

    @router.post("/clients/{sk_id_curr}/decisions", status_code=201,
                 response_model=DecisionEntry, responses=WRITE_ERRORS)
    def post_decision(sk_id_curr: ClientId, body: DecisionIn,
                      authorization: Annotated[str | None, Header()] = None) -> DecisionEntry:
        """Record a decision for the client (issue, confirm, override, contest, review)."""
        actor = actor_for(sk_id_curr, body, authorization)
        request = DecisionRequest(kind=body.kind, actor=actor, decision=body.decision,
                                  comment=body.comment, what_if_edits=body.what_if_edits)
        return DecisionEntry(**record_decision(lookup, store, sk_id_curr, request))

    @router.get("/clients/{sk_id_curr}/decisions", response_model=DecisionHistory,
                responses=READ_ERRORS)
    def get_decisions(sk_id_curr: ClientId) -> DecisionHistory:
        """Every decision entry of the client, oldest first (unpaginated)."""
        items = store.history(sk_id_curr)
        if not items:
            lookup.score(sk_id_curr)       # 404 for a client nobody knows
        return DecisionHistory(items=[DecisionEntry(**e) for e in items])

    @router.get("/reviews", response_model=ReviewQueue, responses=READ_ERRORS)
    def reviews(status: Annotated[ReviewStatus, Query(description="open = contested and "
                                                                  "not yet reviewed")] = "open"
                ) -> ReviewQueue:
        """The review queue: contests and whether they were reviewed, oldest first."""
        return ReviewQueue(items=store.reviews(status))

    return router


def add_decision_routes(app: FastAPI, lookup: Lookup, store: DecisionStore,
                        advisors: dict[str, str], home: PadPaths) -> None:
    """Mount the routes and map the store's errors onto 422 / 503."""
    app.include_router(decisions_router(lookup, store, advisors, home))
    app.state.decisions = store

    @app.exception_handler(InvalidDecision)
    async def invalid(_: Request, exc: InvalidDecision) -> JSONResponse:
        return JSONResponse({"detail": error_detail(exc, current_language())}, status_code=422)

    @app.exception_handler(sa.exc.OperationalError)
    async def store_down(_: Request, exc: sa.exc.OperationalError) -> JSONResponse:
        return JSONResponse({"detail": "the decision store is unreachable: "
                             f"{str(exc.orig).strip().splitlines()[0]}"}, status_code=503)
