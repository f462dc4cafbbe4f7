import json
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.support.processes import ROOT, free_port, project_env

READINESS = """
import django, json
django.setup()
from assistant.core.health import readiness
print(json.dumps([check.as_dict() for check in readiness()]))
"""


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency_ready(client, broker):
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "pgvector", "broker"}
    assert body["checks"]["pgvector"]["detail"] == "pgvector 0.8.6"
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_reports_a_stopped_broker_as_not_ready_with_the_reason(client, redis_server):
    with override_settings(CELERY_BROKER_URL=redis_server.url):
        assert client.get("/readyz").status_code == 200
        redis_server.stop()

        response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert "Connection refused" in body["checks"]["broker"]["detail"]


@pytest.mark.django_db
def test_readyz_in_eager_mode_does_not_need_a_broker(client):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/readyz")

    assert response.status_code == 200
    assert "in-process" in response.json()["checks"]["broker"]["detail"]


def test_readiness_reports_an_unreachable_database_and_skips_pgvector():
    result = subprocess.run(
        [sys.executable, "-c", READINESS],
        cwd=ROOT,
        env=project_env(DATABASE_URL=f"postgresql://app@127.0.0.1:{free_port()}/finassist"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    database, vector, _ = json.loads(result.stdout)
    assert database["ok"] is False
    assert "Connection refused" in database["detail"]
    assert vector == {"name": "pgvector", "ok": False, "detail": "database down", "ms": 0.0}
