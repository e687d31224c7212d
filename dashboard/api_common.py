"""Building blocks every router of the lookup API uses: fast JSON responses, the documented
error statuses, shared parameter types.

Fast responses. A route that returns a pydantic record lets FastAPI validate it again against
its `response_model`, convert it to plain Python (`jsonable_encoder`) and encode that with
`json.dumps` — three passes over a record the lookup has just built and validated. A route here
returns `json_response(record)` instead: pydantic's Rust serialiser writes the bytes in one
pass, and FastAPI sends a `Response` as it is. The route keeps `response_model=` for the
OpenAPI document, which the schemathesis test (tests/dashboard/test_api_fuzz.py) then checks
against every live answer, so the docs cannot drift from what is served.

Documented statuses. Every status a route can answer is in the OpenAPI document: 422 and 503 on
every route (`app_responses`), 401 too when a token is configured, 404 on the routes about one
client (`NOT_FOUND`). The 422 body is `ErrorBody`: a message (the lookup's own checks) or
FastAPI's list of validation errors.
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dashboard.lookup import MAX_ID


class ErrorBody(BaseModel):
    """FastAPI's error body."""

    detail: str | list[dict[str, Any]] = Field(
        description="what is wrong: a message, or one entry per invalid input (422)")


class JsonResponse(Response):
    """application/json bytes written by pydantic (see the module docstring)."""

    media_type = "application/json"


def json_response(record: BaseModel, status_code: int = 200) -> Response:
    """`record` as a JSON response, serialised once by pydantic's Rust core."""
    return JsonResponse(record.__pydantic_serializer__.to_json(record), status_code=status_code)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": ErrorBody}


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("unknown client")}
# FastAPI's own answer to a body it cannot decode (not UTF-8), as it appears in the document
UNREADABLE_BODY = {"description": "the body is not JSON text",
                   "content": {"application/json": {"schema": {
                       "$ref": "#/components/schemas/ErrorBody"}}}}


def app_responses(token: bool) -> dict[int | str, dict[str, Any]]:
    """Statuses every route can answer (`token`: the API demands a bearer token)."""
    responses: dict[int | str, dict[str, Any]] = {
        422: _error("malformed input"),
        503: _error("no warehouse published yet"),
    }
    if token:
        responses[401] = _error("missing or wrong bearer token")
    return responses


ClientId = Annotated[int, PathParam(ge=0, le=MAX_ID, description="client id (SK_ID_CURR)")]
FeatureName = Annotated[str, Query(min_length=1, max_length=200,
                                   description="a feature name from GET /features")]
