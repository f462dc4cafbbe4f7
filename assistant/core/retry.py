"""The retry policy every task declares on its decorator, and the reason a failed task records.

Errors that pass by themselves (a database connection dropped or failed over, and whatever a task
adds: a model whose combination a worker is still fitting) are retried with exponential backoff
and jitter, a few times; anything else fails at once. A task on one row marks the row failed in its
`on_failure`, which Celery calls once the task has failed for good, so a person sees the failure
at once instead of when a periodic sweep next looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import InterfaceError, OperationalError

TRANSIENT: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
BACKOFF_S = 5
BACKOFF_MAX_S = 300


def retried(*errors: type[Exception], max_retries: int = 5) -> dict[str, Any]:
    """Decorator options: retry transient database errors and `errors` after 5, 10, 20 ... seconds
    (at most BACKOFF_MAX_S, jittered), at most `max_retries` times."""
    return {
        "autoretry_for": (*TRANSIENT, *errors),
        "retry_backoff": BACKOFF_S,
        "retry_backoff_max": BACKOFF_MAX_S,
        "retry_jitter": True,
        "max_retries": max_retries,
    }


NOT_RETRIED: dict[str, Any] = {"autoretry_for": (), "max_retries": 0}
"""For a periodic task (the next run does the work) or a probe (its failure is the answer)."""


def failure_reason(error: BaseException) -> str:
    """What a row that failed records: an ApplicationError's message, else the exception."""
    return getattr(error, "message", None) or f"{type(error).__name__}: {error}"[:2000]


def marks_failed(mark: Callable[[int, str], None]) -> type[Task[Any, Any]]:
    """A task base class whose `on_failure` calls `mark(row id, reason)` with the task's first
    argument, once the task has failed for good."""

    class MarksFailed(Task[Any, Any]):
        def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
            mark(args[0], failure_reason(exc))

    return MarksFailed
