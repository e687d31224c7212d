"""Coded messages that travel as plain strings: an exception raised deep down carries its
English text as usual, and the code that shows it to a person renders it in their language."""
from __future__ import annotations

from typing import Any, Self

from i18n.catalogue import translate
from i18n.formatting import format_number


class Message(str):
    """A coded message that reads as its English text wherever a str is expected (an
    exception's message, a log line) and renders in another language on demand:
    `Message("error", "client_not_found", sk_id_curr="42")`, then `localize(text, "fr")`.

    Number parameters are formatted for each language (i18n.formatting); pass identifiers as
    str so that they are not grouped by thousands."""

    context: str
    key: str
    params: dict[str, Any]

    def __new__(cls, context: str, key: str, **params: Any) -> Self:
        self = super().__new__(cls, _render(context, key, "en", params))
        self.context, self.key, self.params = context, key, params
        return self

    def in_language(self, lang: str) -> str:
        return _render(self.context, self.key, lang, self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.context, self.key, self.params))


def _rebuild(context: str, key: str, params: dict[str, Any]) -> Message:
    return Message(context, key, **params)


def _render(context: str, key: str, lang: str, params: dict[str, Any]) -> str:
    def shown(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return format_number(value, lang, decimals=0 if float(value).is_integer() else 2)

    return translate(context, key, lang, **{name: shown(v) for name, v in params.items()})


def localize(text: object, lang: str) -> str:
    """`text` in `lang` when it is a Message, else as it is."""
    return text.in_language(lang) if isinstance(text, Message) else str(text)
