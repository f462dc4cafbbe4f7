"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_prerun
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")

app = Celery("finassist")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def recycle_database_connections(task: Task[Any, Any] | None = None, **_: object) -> None:
    """Apply Django's per-request connection policy (CONN_MAX_AGE, health checks) per task.

    Not to a task run eagerly: it shares its caller's connection, maybe mid-transaction.
    """
    if task is not None and task.request.is_eager:
        return
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
