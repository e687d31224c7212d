"""Which language to answer in: an explicit `?lang=`, else the browser's Accept-Language,
else the default of the surface (French for the dashboard, English for the API)."""
from __future__ import annotations

from babel.core import negotiate_locale

from i18n.catalogue import LANGUAGES

DASHBOARD_DEFAULT = "fr"
API_DEFAULT = "en"


def accepted_languages(header: str | None) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first (q = 0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_language(lang: str | None = None, accept_language: str | None = None,
                       default: str = DASHBOARD_DEFAULT) -> str:
    """'fr' or 'en': `lang` when it names one (`fr`, `en-GB`…), else the best match of the
    Accept-Language header, else `default`. Unknown or malformed values never fail."""
    if default not in LANGUAGES:
        raise ValueError(f"default language must be one of {', '.join(LANGUAGES)}")
    for preferred in ([lang] if lang else [], accepted_languages(accept_language)):
        tags = [tag.strip().lower().replace("_", "-") for tag in preferred]
        chosen = negotiate_locale(tags, LANGUAGES, sep="-") if tags else None
        if chosen in LANGUAGES:
            return chosen
    return default
