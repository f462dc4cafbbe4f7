"""Sending work to the workers by task name, so that services never import the tasks that call them.

Each app's `dispatch` module names its tasks and says how they are sent; its services call it and
its `tasks` module declares the tasks under those names. Work asked for inside a transaction is
sent once it commits, so a worker never looks for a row it cannot see yet. What the broker does not
take then is kept in the database and sent once it answers: the work committed is never left
without its task, and the request that asked for it does not fail for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from assistant.celery import app
from assistant.core.models import UnsentTask

logger = logging.getLogger("finassist.core")


def send(name: str, *args: object, countdown: float = 0) -> None:
    """Send task `name` now; where tasks run in the calling process (FINASSIST_CELERY_EAGER), run it.

    Celery's send_task ignores eager mode, so an eager process looks the task up and applies it.
    """
    if app.conf.task_always_eager:
        if name not in app.tasks:
            app.loader.import_default_modules()  # registers every app's tasks
        app.tasks[name].apply_async(args, countdown=countdown)
        return
    # Nothing reads these tasks' results: not subscribing to them spares the result store a
    # round trip, and a sender whose broker is down waits for the broker alone.
    app.send_task(name, args=args, countdown=countdown, ignore_result=True)


def send_on_commit(name: str, *args: object, countdown: float = 0) -> None:
    """Send task `name` once the current transaction commits (at once outside one); kept for
    `unsent_send` where the broker does not take it."""
    transaction.on_commit(lambda: _send_or_keep(name, args, countdown))


def _send_or_keep(name: str, args: Sequence[object], countdown: float) -> None:
    try:
        send(name, *args, countdown=countdown)
    except OperationalError as exc:  # kombu's: the broker did not answer
        UnsentTask.objects.create(
            name=name,
            args=list(args),
            not_before=timezone.now() + timedelta(seconds=countdown),
            error=str(exc)[:2000],
        )
        logger.error("the broker did not take %s%s (%s); kept, to be sent once it answers", name, args, exc)


def unsent_send() -> int:
    """Send the tasks the broker did not take, oldest first, until it refuses one (each keeps
    what is left of its countdown); returns how many went. Two sweeps at once send each once."""
    sent: list[int] = []
    with transaction.atomic():
        for task in UnsentTask.objects.select_for_update(skip_locked=True)[:1000]:
            left = (task.not_before - timezone.now()).total_seconds()
            try:
                send(task.name, *task.args, countdown=max(0.0, left))
            except OperationalError:
                break
            sent.append(task.pk)
        UnsentTask.objects.filter(pk__in=sent).delete()
    if sent:
        logger.warning("sent %d task(s) the broker had not taken", len(sent))
    return len(sent)


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
