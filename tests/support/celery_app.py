"""The project's Celery app plus tasks that only tests send, for worker subprocesses."""

import os
import time

import redis
from django.conf import settings
from django.db import connection

from assistant.celery import app
from tests.support import training  # noqa: F401 - registers the test classification task

__all__ = ["app", "count_and_sleep", "database_backend_pid"]

ROUTED_TO_TEST_QUEUE = ("integrations.*", "knowledge.*", "claims.*", "aml.*", "lab.*", "lab.train")


def routes_set(routes: dict[str, dict[str, str]]) -> None:
    """Replace the task routes; Celery prepares them once per process, so prepare them again."""
    app.conf.task_routes = routes
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


def test_queue_routes(queue: str) -> dict[str, dict[str, str]]:
    return {**app.conf.task_routes, **{pattern: {"queue": queue} for pattern in ROUTED_TO_TEST_QUEUE}}


# A worker started for one test sends the tasks it makes (a webhook retry) to that test's queue.
if queue := os.environ.get("TEST_QUEUE"):
    routes_set(test_queue_routes(queue))


@app.task(name="tests.count_and_sleep")
def count_and_sleep(key: str, seconds: float) -> dict[str, int]:
    """Count this attempt in Redis, then work for `seconds`: a task that can be caught mid-run."""
    attempts = redis.Redis.from_url(settings.REDIS_URL).incr(key)
    time.sleep(seconds)
    return {"attempts": attempts, "pid": os.getpid()}


@app.task(name="tests.database_backend_pid")
def database_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
