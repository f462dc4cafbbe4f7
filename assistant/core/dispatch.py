"""Sending work to the workers by task name, so that services never import the tasks that call them.

Each app's `dispatch` module names its tasks and says how they are sent; its services call it and
its `tasks` module declares the tasks under those names. Work asked for inside a transaction is
sent once it commits, so a worker never looks for a row it cannot see yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from assistant.celery import app


def send(name: str, *args: object, countdown: float = 0) -> None:
    """Send task `name` now; where tasks run in the calling process (FINASSIST_CELERY_EAGER), run it.

    Celery's send_task ignores eager mode, so an eager process looks the task up and applies it.
    """
    if app.conf.task_always_eager:
        if name not in app.tasks:
            app.loader.import_default_modules()  # registers every app's tasks
        app.tasks[name].apply_async(args, countdown=countdown)
        return
    app.send_task(name, args=args, countdown=countdown)


def send_on_commit(name: str, *args: object, countdown: float = 0) -> None:
    """Send task `name` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(name, *args, countdown=countdown))


def resend_stale(
    stale: QuerySet[Any],
    send_one: Callable[[int], None],
    *,
    logger: logging.Logger,
    message: str,
    stamp: str | None = None,
) -> int:
    """The stale-work sweeps' common end: send again the work of up to 1,000 stale rows, each by its
    id; with `stamp`, that field is set to now, so that a row is sent once a period rather than at
    every sweep. Logs `message` with how many (when any) and returns it."""
    ids = list(stale.values_list("pk", flat=True)[:1000])
    if stamp is not None:
        stale.model.objects.filter(pk__in=ids).update(**{stamp: timezone.now()})
    for pk in ids:
        send_one(pk)
    if ids:
        logger.warning(message, len(ids))
    return len(ids)
