"""Real Celery round trips: worker processes, the real Redis broker, the test database."""

import os
import signal
import time
import uuid

import pytest
from django.conf import settings

from assistant.core.tasks import system_probe
from tests.support.celery_app import count_and_sleep, database_backend_pid
from tests.support.processes import wait_for

VISIBILITY_TIMEOUT = 5
# Tight limits so that a task whose worker died is handed on within seconds, not hours.
FAST_REDELIVERY = {
    "FINASSIST_CELERY_SOFT_TIME_LIMIT": "3",
    "FINASSIST_CELERY_TIME_LIMIT": "4",
    "FINASSIST_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
}


@pytest.fixture
def queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def attempts_key(broker):
    key = f"test:attempts:{uuid.uuid4().hex}"
    yield key
    broker.delete(key)


def test_a_worker_runs_a_task_and_returns_its_result(start_worker, queue):
    start_worker(queue)

    answer = system_probe.apply_async(queue=queue).get(timeout=30)

    assert answer["checks"]["database"]["ok"], answer
    assert answer["checks"]["pgvector"]["detail"].startswith("pgvector 0.8"), answer


def test_a_worker_keeps_its_database_connection_between_tasks(start_worker, queue):
    start_worker(queue)

    pids = {database_backend_pid.apply_async(queue=queue).get(timeout=30) for _ in range(3)}

    assert len(pids) == 1


def test_a_task_whose_worker_is_killed_midway_is_completed_by_a_new_worker(
    start_worker, queue, broker, attempts_key
):
    first = start_worker(queue, **FAST_REDELIVERY)
    result = count_and_sleep.apply_async((attempts_key, 2.0), queue=queue)
    wait_for(lambda: broker.get(attempts_key) == b"1", 30, "the first worker to start the task")

    first.kill()
    assert result.state == "STARTED"
    # Redis hands an unacknowledged task on once its visibility timeout has passed;
    # a worker looks for such tasks when it starts (and periodically after).
    time.sleep(VISIBILITY_TIMEOUT + 0.5)
    start_worker(queue, **FAST_REDELIVERY)

    assert result.get(timeout=60)["attempts"] == 2
    assert broker.get(attempts_key) == b"2"


def test_a_task_whose_pool_process_dies_is_requeued_not_lost(start_worker, queue, broker, attempts_key):
    worker = start_worker(queue)
    result = count_and_sleep.apply_async((attempts_key, 2.0), queue=queue)
    wait_for(lambda: broker.get(attempts_key) == b"1", 30, "the worker to start the task")

    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)

    # reject_on_worker_lost puts the message straight back; the worker's new child runs it.
    assert result.get(timeout=60)["attempts"] == 2


def test_each_queue_has_its_own_routing_key():
    keys = {queue.name: queue.routing_key for queue in settings.CELERY_TASK_QUEUES}

    assert keys == {name: name for name in settings.CELERY_QUEUES}
    assert set(settings.CELERY_QUEUES) == {"default", "ingest", "inference", "gpu"}


def test_every_task_declares_its_retry_policy():
    from assistant.celery import app

    app.loader.import_default_modules()
    ours = {
        name: task
        for name, task in app.tasks.items()
        if name.split(".")[0] in {"core", "knowledge", "training", "integrations", "claims", "aml"}
    }

    assert len(ours) >= 12
    for name, task in ours.items():
        assert "autoretry_for" in vars(type(task)), f"{name} declares no retry policy"
        if task.autoretry_for:
            assert (task.retry_backoff, task.retry_jitter, 0 < task.max_retries <= 10) == (5, True, True), (
                name
            )
