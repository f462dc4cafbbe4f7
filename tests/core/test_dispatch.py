"""Work committed while the broker is down: the request that asked for it succeeds, its task is
kept in the database, and the sweep sends it, once, when the broker answers again."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from assistant.core.dispatch import send_on_commit, unsent_send
from assistant.core.models import UnsentTask

pytestmark = pytest.mark.django_db


def queued(url: str, queue: str) -> list[dict]:
    """The messages waiting in a queue of the broker at `url`, as kombu keeps them in Redis."""
    return [json.loads(raw) for raw in redis.Redis.from_url(url).lrange(queue, 0, -1)]


def test_a_task_the_broker_refuses_is_kept_with_its_countdown_and_sent_when_it_answers(
    own_broker, django_capture_on_commit_callbacks, caplog
):
    own_broker.stop()
    with caplog.at_level(logging.ERROR, "finassist.core"), django_capture_on_commit_callbacks(execute=True):
        send_on_commit("integrations.deliver", 7, countdown=30)
        send_on_commit("claims.triage", 8)

    kept = list(UnsentTask.objects.values_list("name", "args"))
    assert kept == [("integrations.deliver", [7]), ("claims.triage", [8])]
    assert UnsentTask.objects.first().not_before > timezone.now() + timedelta(seconds=25)
    assert "Connection refused" in UnsentTask.objects.first().error
    assert "the broker did not take claims.triage(8,)" in caplog.text

    assert unsent_send() == 0  # still down: nothing lost, nothing raised
    assert UnsentTask.objects.count() == 2

    own_broker.start()
    assert unsent_send() == 2
    assert not UnsentTask.objects.exists()
    (deliver,) = queued(own_broker.url, "default")
    (triage,) = queued(own_broker.url, "inference")  # routed as configured
    assert (deliver["headers"]["task"], deliver["headers"]["argsrepr"]) == ("integrations.deliver", "(7,)")
    assert deliver["headers"]["eta"] is not None  # what was left of its 30 s
    assert (triage["headers"]["task"], triage["headers"]["eta"]) == ("claims.triage", None)
    assert unsent_send() == 0


def test_the_sweep_runs_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["core-send-unsent"]
    assert entry["task"] == "core.send_unsent"
    assert entry["schedule"] <= 60
