import os
import socket

from celery import shared_task

from assistant.core import health
from assistant.core.dispatch import unsent_send
from assistant.core.retry import NOT_RETRIED


@shared_task(name="core.system_probe", soft_time_limit=10, time_limit=15, **NOT_RETRIED)
def system_probe() -> dict[str, object]:
    """Which worker answered, and whether it reaches the database and pgvector."""
    return {
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "checks": {check.name: check.as_dict() for check in health.database_readiness()},
    }


@shared_task(name="core.send_unsent", soft_time_limit=60, time_limit=90, **NOT_RETRIED)
def send_unsent_task() -> int:
    """Periodic (beat): send the tasks the broker did not take when their work was committed."""
    return unsent_send()
