"""System checks: configuration errors that only the assembled application can see."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import autodiscover_modules


@register()
def task_time_limits_below_visibility_timeout(**kwargs: Any) -> list[CheckMessage]:
    """A task running longer than the broker's visibility timeout would be handed out twice."""
    from assistant.celery import app

    # Django's own discovery: Celery's would run the system checks again, recursively.
    autodiscover_modules("tasks")
    errors: list[CheckMessage] = []
    for name, task in sorted(app.tasks.items()):
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        if limit >= settings.CELERY_VISIBILITY_TIMEOUT:
            errors.append(
                Error(
                    f"task {name} may run {limit} s, not less than the broker visibility timeout "
                    f"of {settings.CELERY_VISIBILITY_TIMEOUT} s: a second worker would run it meanwhile",
                    hint="raise FINASSIST_CELERY_VISIBILITY_TIMEOUT or lower the task's time_limit",
                    id="finassist.E001",
                )
            )
    return errors
