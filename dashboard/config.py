"""The one place of the `dashboard` package that reads the environment.

Paths come from `warehouse.config.pad_paths()`; here: serving defaults, secrets and knobs.
Everything deeper takes these values as arguments.
"""
from __future__ import annotations

import ipaddress
import os

from warehouse.config import env_int

API_HOST = "127.0.0.1"
API_PORT = 8000
DASHBOARD_HOST = "127.0.0.1"
DASHBOARD_PORT = 5006


def api_token() -> str | None:
    """Bearer token the API demands (PAD_API_TOKEN); required off loopback, sent by the
    dashboard's HTTP client when set."""
    return os.environ.get("PAD_API_TOKEN") or None


def dashboard_password() -> str | None:
    """Password of the dashboard login (PAD_DASHBOARD_PASSWORD); required off loopback."""
    return os.environ.get("PAD_DASHBOARD_PASSWORD") or None


def dashboard_cookie_secret() -> str | None:
    """Secret that signs the login cookie (PAD_DASHBOARD_COOKIE_SECRET); a random one per
    process when unset, which only means logins do not survive a restart."""
    return os.environ.get("PAD_DASHBOARD_COOKIE_SECRET") or None


def dashboard_origins() -> list[str]:
    """Extra allowed websocket origins, `host:port` comma-separated (PAD_DASHBOARD_ORIGINS),
    for a dashboard reached through another name than the one it binds to."""
    raw = os.environ.get("PAD_DASHBOARD_ORIGINS", "")
    return [o.strip() for o in raw.split(",") if o.strip()]


def lookup_threads() -> int:
    """DuckDB threads per published snapshot (PAD_LOOKUP_THREADS, default 1): lookups are
    point queries that one thread answers fastest, and concurrent requests already use every
    core; the few whole-table aggregates are computed once per published snapshot."""
    return env_int("PAD_LOOKUP_THREADS", 1)


def api_threads() -> int:
    """Worker threads of the API's (synchronous) routes (PAD_API_THREADS, default 4).

    Starlette's default is 40: on 2 cores that many threads contend for the GIL and stretch
    the latency tail; a few workers with requests queueing in order answer the same load with
    a shorter one (measured at 8 concurrent clients, full scale: p99 ≈ 44–49 ms against
    53–55 ms with 40, same throughput)."""
    return env_int("PAD_API_THREADS", 4)


def api_warm() -> bool:
    """Whether the API loads every per-snapshot table into memory before it serves, and again
    in the background after each publish (PAD_API_WARM, default 1). Without it the first
    requests of each block of clients pay for loading it (tens of ms at full scale)."""
    return os.environ.get("PAD_API_WARM", "1").strip().lower() not in ("0", "false", "no")


def is_loopback(host: str) -> bool:
    """True when `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def advisor_tokens() -> dict[str, str]:
    """Advisors allowed to record decisions: PAD_ADVISOR_TOKENS = `name:token,name:token`,
    returned as token → name. A malformed pair raises ValueError naming it."""
    advisors: dict[str, str] = {}
    for pair in os.environ.get("PAD_ADVISOR_TOKENS", "").split(","):
        if not pair.strip():
            continue
        name, sep, token = pair.strip().partition(":")
        if not sep or not name.strip() or len(token.strip()) < 8 or name.strip() == "client":
            raise ValueError(f"PAD_ADVISOR_TOKENS: {name.strip() or pair.strip()!r} is not "
                             "'name:token' (a token of 8+ characters; 'client' is reserved)")
        advisors[token.strip()] = name.strip()
    return advisors
