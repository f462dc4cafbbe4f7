"""Liveness and readiness of the services this process depends on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection
from kombu import Connection


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    ms: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail, ok = probe(), True
    except Exception as exc:  # noqa: BLE001 - any failure is a "not ready" with its reason
        detail, ok = f"{type(exc).__name__}: {exc}".strip(), False
    return Check(name, ok, detail, round((time.perf_counter() - started) * 1000, 1))


def database_check() -> Check:
    def probe() -> str:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('server_version')")
                (version,) = cursor.fetchone()
        except Exception:
            connection.close()
            raise
        return f"PostgreSQL {version}"

    return _timed("database", probe)


def pgvector_check() -> Check:
    def probe() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
        if row is None:
            raise LookupError("the vector extension is not installed (run manage.py migrate)")
        return f"pgvector {row[0]}"

    return _timed("pgvector", probe)


def broker_check() -> Check:
    def probe() -> str:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return "not used: tasks run in-process (FINASSIST_CELERY_EAGER)"
        timeout = settings.READINESS_TIMEOUT
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=timeout,
            transport_options={"socket_timeout": timeout},
        ) as broker:
            # kombu takes the seconds as a float; its stub says int.
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)  # type: ignore[arg-type]
            return f"{broker.transport_cls} broker at {broker.as_uri()}"

    return _timed("broker", probe)


def database_readiness() -> list[Check]:
    database = database_check()
    vector = pgvector_check() if database.ok else Check("pgvector", False, "database down", 0.0)
    return [database, vector]


def readiness() -> list[Check]:
    return [*database_readiness(), broker_check()]
