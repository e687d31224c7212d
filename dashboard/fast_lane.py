"""The API's fast lane: the four routes that make most of the traffic, answered without the
framework's per-request machinery once the published file is in memory.

`GET /clients/{id}`, `/clients/{id}/score`, `/clients/{id}/explanation` and
`/clients/{id}/similar[?k=N]` are what the dashboard's client page asks for (80 % of the
benchmark's mix). Once `Lookup.is_warm()` says every table of the current snapshot is in
memory, each is a ≈ 0.05–0.2 ms read; FastAPI's routing, parameter validation and the hop to a
worker thread then cost more than the answer (≈ 0.2 ms of CPU a request on 2 cores). This ASGI
middleware answers them directly, on the event loop, with the same bytes the routes would send
(`json_response`); everything else — other routes, a query string it does not expect, an id out
of range, a cold or changing snapshot, any error but an unknown client — goes on to FastAPI
unchanged, so validation, 422/503 bodies and the OpenAPI document stay FastAPI's. The token
check (`BearerToken`) and the language (`RequestLanguage`: the explanation's texts come from
blocks already translated) sit outside this middleware: they apply here too.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import BaseModel

from dashboard.api_language import current_language, error_detail
from dashboard.lookup import MAX_ID, SIMILAR_K, ClientNotFound, Lookup

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
CLIENT_PATH = re.compile(r"/clients/([0-9]{1,19})(/score|/explanation|/similar)?")
SIMILAR_QUERY = re.compile(rb"(?:k=([0-9]{1,2}))?")
JSON_HEADERS = [(b"content-type", b"application/json")]


class FastLane:
    """ASGI middleware answering the hot client routes from memory (see the module doc)."""

    def __init__(self, app: ASGIApp, lookup: Lookup) -> None:
        self.app = app
        self.lookup = lookup

    def _answer(self, path: str, query: bytes) -> BaseModel | None:
        """The record for a hot route, None when the request is not one this lane takes."""
        match = CLIENT_PATH.fullmatch(path)
        if match is None:
            return None
        sk_id_curr, kind = int(match.group(1)), match.group(2)
        if sk_id_curr > MAX_ID:
            return None
        if kind == "/similar":
            k = SIMILAR_QUERY.fullmatch(query)
            if k is None:
                return None
            size = int(k.group(1)) if k.group(1) else 10
            if not 1 <= size <= SIMILAR_K:
                return None
            return self.lookup.similar(sk_id_curr, size)
        if query:
            return None
        if kind == "/score":
            return self.lookup.score(sk_id_curr)
        if kind == "/explanation":
            return self.lookup.explanation(sk_id_curr)
        return self.lookup.client(sk_id_curr)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "GET"
                and scope["path"].startswith("/clients/") and self.lookup.is_warm()):
            try:
                record = self._answer(scope["path"], scope.get("query_string", b""))
                status = 200
            except ClientNotFound as exc:
                record, status = _NotFound(detail=error_detail(exc, current_language())), 404
            except Exception:  # noqa: BLE001 — FastAPI answers it, with its own mapping
                record = None
            if record is not None:
                body = record.__pydantic_serializer__.to_json(record)
                await send({"type": "http.response.start", "status": status,
                            "headers": [*JSON_HEADERS,
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class _NotFound(BaseModel):
    detail: str
