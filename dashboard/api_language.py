"""The API's language: negotiated once per request from `Accept-Language` (English when absent
or unknown), announced in `Content-Language`, and applied to the texts of the answers.

Codes and field names never change; only texts do, each translated by the code beside it
(i18n catalogue): `feature_label` by `feature_name`, `family_label` by `family`, `reason_text`
by `reason_code`, error details by their coded message. English is the warehouse's own text, so
an English answer is served as it is. The explanation's many rows are translated once per block
of clients and language (dashboard.blocks reads the active language), not per request; the
other records (a what-if, a comparison, the feature list, the model) are translated here.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from i18n import API_DEFAULT, LANGUAGES, active_language, localize, negotiate_language
from i18n.context import activate_language, deactivate_language
from models_ml.families import family_label, feature_label, reason_text

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
R = TypeVar("R", bound=BaseModel)
LANGUAGE_HEADER = b"accept-language"
RESPONSE_HEADERS = {lang: ((b"content-language", lang.encode()), (b"vary", b"Accept-Language"))
                    for lang in LANGUAGES}


def request_language(scope: Scope) -> str:
    """The language of a request: the best of its Accept-Language, else English."""
    for name, value in scope.get("headers", ()):
        if name == LANGUAGE_HEADER:
            return _negotiated(value)
    return API_DEFAULT


@lru_cache(maxsize=1024)
def _negotiated(header: bytes) -> str:
    # a client sends the same header with every request: negotiate each value once
    return negotiate_language(None, header.decode("latin-1"), API_DEFAULT)


def current_language() -> str:
    """The language of the request being served (set by RequestLanguage)."""
    return active_language() or API_DEFAULT


class RequestLanguage:
    """ASGI middleware: the request's language is active while it is served (see
    i18n.context) and every response says which one it is in (`Content-Language`, and
    `Vary: Accept-Language` for caches)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lang = request_language(scope)
        headers = RESPONSE_HEADERS[lang]

        async def send_with_language(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        token = activate_language(lang)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            deactivate_language(token)


def localized(record: R, lang: str) -> R:
    """`record` with every text translated by its code (nested records and lists too)."""
    if lang == "en":
        return record
    return _localized(record, lang)


def _localized(value: Any, lang: str) -> Any:
    if isinstance(value, list):
        return [_localized(item, lang) for item in value]
    if not isinstance(value, BaseModel):
        return value
    update: dict[str, Any] = {}
    for name in type(value).model_fields:
        item = getattr(value, name)
        if isinstance(item, BaseModel | list):
            update[name] = _localized(item, lang)
    fields = type(value).model_fields
    if "feature_label" in fields and "feature_name" in fields:
        update["feature_label"] = feature_label(value.feature_name, lang, value.feature_label)
    if "family_label" in fields and "family" in fields:
        update["family_label"] = family_label(value.family, lang, value.family_label)
    if "reason_text" in fields and "reason_code" in fields:
        update["reason_text"] = reason_text(value.reason_code, lang, value.reason_text)
    return value.model_copy(update=update) if update else value


def error_detail(exc: Exception, lang: str) -> str:
    """The detail of an error answer in `lang`: its coded message translated (the lookup's
    errors are coded; an uncoded one is an operator's message and stays as it is)."""
    return localize(exc.args[0] if exc.args else str(exc), lang)
