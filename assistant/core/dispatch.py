"""Sending work to the workers by task name, so that services never import the tasks that call them.

Each app's `dispatch` module names its tasks and says how they are sent; its services call it and
its `tasks` module declares the tasks under those names. Work asked for inside a transaction is
sent once it commits, so a worker never looks for a row it cannot see yet.
"""

from __future__ import annotations

from django.db import transaction

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
