"""SQL text shared by the raw-data modules: the schema the load writes, identifier and literal
quoting."""
from __future__ import annotations

RAW_SCHEMA = "raw"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
