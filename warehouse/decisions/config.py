"""The one place of `warehouse.decisions` that reads the environment (CONTRACTS §7).

The decision store is SQLite at `$PAD_HOME/decisions.sqlite` unless `PAD_DECISIONS_URL` names a
PostgreSQL database (`postgresql://user@host:port/db`, any libpq form SQLAlchemy accepts).
"""
from __future__ import annotations

import os

from warehouse.config import PadPaths

SQLITE_NAME = "decisions.sqlite"


def decisions_url(paths: PadPaths) -> str:
    """SQLAlchemy URL of the decision store (psycopg 3 driver for PostgreSQL)."""
    given = os.environ.get("PAD_DECISIONS_URL", "").strip()
    if not given:
        return f"sqlite:///{paths.home / SQLITE_NAME}"
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if given.startswith(prefix):
            return "postgresql+psycopg://" + given[len(prefix):]
    return given


def contest_secret() -> str | None:
    """Secret that signs the clients' contest codes (PAD_CONTEST_SECRET); when unset a random
    key is kept in `$PAD_HOME/decisions.key` so every process of one PAD_HOME agrees."""
    return os.environ.get("PAD_CONTEST_SECRET") or None
