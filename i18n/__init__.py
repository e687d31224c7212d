"""Languages of the product: the message catalogue (gettext, handled with Babel), language
negotiation and locale formatting. French is the default language of the product; English is
the default of the API.

The lowest layer of the project: it imports no other package of it, so the warehouse, the model
code, the API and the dashboard can all use it. See the README section "Languages".
"""
from __future__ import annotations

from i18n.catalogue import (
    DEFAULT_DOMAIN,
    DOMAINS,
    LANGUAGES,
    gettext_for,
    has_text,
    translate,
    translations,
)
from i18n.context import active_language, using_language
from i18n.formatting import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_percent,
)
from i18n.message import Message, localize
from i18n.negotiation import API_DEFAULT, DASHBOARD_DEFAULT, negotiate_language

__all__ = [
    "API_DEFAULT", "DASHBOARD_DEFAULT", "DEFAULT_DOMAIN", "DOMAINS", "LANGUAGES", "Message",
    "active_language", "format_date", "format_datetime", "format_money", "format_number",
    "format_percent", "gettext_for", "has_text", "localize", "negotiate_language", "translate",
    "translations", "using_language",
]
