"""A throwaway PostgreSQL server (Debian's postgresql 15 binaries) for tests and `pad bench`.

`initdb` in a fresh temporary folder, `pg_ctl start` on a free port of 127.0.0.1 (and a private
unix socket folder), removed again on exit. PostgreSQL refuses to run as root, so when we are
root the server runs as the `postgres` user (`runuser`) in a folder it owns.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"),
               Path("/usr/lib/postgresql/17/bin")]
SERVER_USER = "postgres"


def pg_bin() -> Path | None:
    """The folder holding initdb/pg_ctl (None when PostgreSQL is not installed)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    return next((d for d in PG_BIN_DIRS if (d / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class PgServer:
    bin_dir: Path
    data: Path
    port: int
    options: str
    log: Path

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data),
                                        *args]), check=True, capture_output=True, text=True)

    def start(self) -> None:
        self.pg_ctl("-o", self.options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "stop")

    def new_database(self, name: str) -> str:
        """Create an empty database and return its URL (isolation between tests)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as con:
            con.execute(f'create database "{name}"')
        return self.database_url(name)


@contextmanager
def throwaway_postgres(*, durable: bool = True) -> Iterator[PgServer]:
    """Yield a fresh running server; `durable=False` switches fsync off (tests)."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
    root = Path(tempfile.mkdtemp(prefix="pad-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, SERVER_USER)
        shutil.chown(sockets, SERVER_USER)
    port = _free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=60"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    server = PgServer(bin_dir, data, port, options, root / "server.log")
    try:
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U",
                                        "postgres", "--auth=trust", "-E", "UTF8",
                                        "--no-sync"]), check=True, capture_output=True, text=True)
        server.start()
        try:
            yield server
        finally:
            subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                            "immediate", "-w", "-t", "20", "stop"]),
                           check=False, capture_output=True)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"PostgreSQL failed: {exc.stderr or exc.stdout}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
