"""The message catalogue: one gettext domain per owner, French and English, read with Babel.

Layout: `i18n/locale/<lang>/LC_MESSAGES/<domain>.po`, templates `i18n/locale/<domain>.pot`
(extracted with `pybabel extract`, see `make translations`). Only the .po files are kept in the
repository; each is compiled in memory the first time a process asks for it (a few ms), so there
is no build step and no binary file to keep in step.

Domains: `pad` holds the texts of the model and the API (reasons, family and feature labels,
recourse sentences, errors, model card); `dashboard` holds the texts of the dashboard's pages.

Two styles of message live side by side:
- coded messages, `translate(context, key, lang)`: msgctxt = what kind of thing (`reason`,
  `family`, `feature`, `recourse`, `error`, `card`…), msgid = a language-free code (a reason
  code, a feature name, a lever). Both languages have a msgstr; the English one is the text the
  warehouse stores.
- plain gettext, `gettext_for(lang, domain)("Some English text")`: msgid = the English text.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES: tuple[str, ...] = ("fr", "en")
DOMAINS: tuple[str, ...] = ("pad", "dashboard")
DEFAULT_DOMAIN = "pad"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class UnknownLanguage(ValueError):
    """A language code the catalogue does not have."""


def po_path(lang: str, domain: str = DEFAULT_DOMAIN) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


@cache
def read_catalog(lang: str, domain: str = DEFAULT_DOMAIN) -> Catalog | None:
    """The parsed .po file of one language and domain (None while the domain has none)."""
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
    path = po_path(lang, domain)
    if not path.is_file():
        return None
    with path.open("rb") as po:
        return read_po(po, locale=lang, domain=domain)


@cache
def translations(lang: str, domain: str = DEFAULT_DOMAIN) -> NullTranslations:
    """The compiled catalogue of one language and domain (compiled once per process).

    A domain without a .po file yet gives NullTranslations (every msgid stands for itself)."""
    catalog = read_catalog(lang, domain)
    if catalog is None:
        return NullTranslations()
    compiled = io.BytesIO()
    # fuzzy entries are drafts: gettext falls back to the msgid for them, as msgfmt does
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


def gettext_for(lang: str, domain: str = DEFAULT_DOMAIN) -> Callable[[str], str]:
    """`gettext` of one language and domain: English msgid → text (the msgid when missing)."""
    return translations(lang, domain).gettext


@lru_cache(maxsize=4096)
def _lookup(lang: str, domain: str, context: str, key: str) -> str | None:
    """The translated text of a coded message; None when missing, empty or fuzzy."""
    catalog = read_catalog(lang, domain)
    entry = catalog.get(key, context=context) if catalog is not None else None
    if entry is None or entry.fuzzy or not entry.string:
        return None
    return translations(lang, domain).pgettext(context, key)


def has_text(context: str, key: str, lang: str, domain: str = DEFAULT_DOMAIN) -> bool:
    """Whether the catalogue has a (non-fuzzy) text for this coded message."""
    return _lookup(lang, domain, context, key) is not None


def translate(context: str, key: str, lang: str, default: str | None = None,
              domain: str = DEFAULT_DOMAIN, **params: Any) -> str:
    """The text of a coded message in `lang`, `{name}` placeholders filled from `params`
    (format numbers with i18n.formatting first).

    Missing entry: `default` (formatted the same way) when given, else KeyError — a missing
    translation of a code must not reach a user as the bare code."""
    text = _lookup(lang, domain, context, key)
    if text is None:
        if default is None:
            raise KeyError(f"no {lang} text for {context} {key!r} in the {domain} catalogue")
        text = default
    return text.format(**params) if params else text

