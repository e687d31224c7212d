"""Contest codes: how a client proves, from the client view, that the decision is theirs.

The printed decision notice carries a short code, an HMAC of the client id under a secret of
this installation (`PAD_CONTEST_SECRET`, else a random key kept in `$PAD_HOME/decisions.key`).
Whoever holds the notice can contest that one decision; nobody can forge a code for another
client. The code is not a password for anything else.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from warehouse.config import PadPaths
from warehouse.decisions.config import contest_secret

KEY_NAME = "decisions.key"


def contest_key(paths: PadPaths) -> bytes:
    """The installation's secret, created once (0600) when no PAD_CONTEST_SECRET is set."""
    given = contest_secret()
    if given:
        return given.encode()
    path: Path = paths.home / KEY_NAME
    if not path.exists():
        paths.home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass                       # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def contest_code(key: bytes, sk_id_curr: int) -> str:
    """`XXXX-XXXX`: 40 bits of HMAC-SHA256 in base32 (no 0/1/8/9 to misread)."""
    digest = hmac.new(key, f"contest:{int(sk_id_curr)}".encode(), hashlib.sha256).digest()
    text = base64.b32encode(digest[:5]).decode()
    return f"{text[:4]}-{text[4:8]}"


def is_contest_code(key: bytes, sk_id_curr: int, code: str) -> bool:
    given = code.strip().upper().replace(" ", "")
    if "-" not in given and len(given) == 8:
        given = f"{given[:4]}-{given[4:]}"
    # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500)
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               contest_code(key, sk_id_curr).encode())
