"""The language of the request being served, for code far below the request handler.

The API negotiates a language once per request and sets it here; code that builds texts from
precomputed data (dashboard.blocks) reads it instead of taking a parameter through every layer,
the way a web framework's "active language" works. It is a ContextVar, so concurrent requests
(asyncio tasks, and the worker threads they hand work to) each see their own. None = nothing
active: the stored English texts.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from i18n.catalogue import LANGUAGES, UnknownLanguage

_active: ContextVar[str | None] = ContextVar("pad_active_language", default=None)


def active_language() -> str | None:
    """The language set by the enclosing `using_language`, or None."""
    return _active.get()


def activate_language(lang: str) -> Token[str | None]:
    """Make `lang` the active language until `deactivate_language(token)` (the hot path of a
    server's middleware; elsewhere prefer `using_language`)."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return _active.set(lang)


def deactivate_language(token: Token[str | None]) -> None:
    _active.reset(token)


@contextmanager
def using_language(lang: str) -> Iterator[str]:
    """Make `lang` the active language inside the block (restored after)."""
    token = activate_language(lang)
    try:
        yield lang
    finally:
        deactivate_language(token)
