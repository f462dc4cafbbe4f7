"""Who may use the lab, what it refuses, and what a person can do to a study before it runs."""

import io
import json
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from assistant.core import roles
from assistant.core.errors import ApplicationError
from assistant.training.models import ModelVersion, TrainingRun
from lab.models import Status, Study
from lab.services import ENDED, StudyError, arm_fit, study_adopt, study_cancel, study_create
from tests.support.training import TOPIC_TASK

TASK = TOPIC_TASK.name


def test_a_cancelled_study_stops_its_runs(db):
    study = study_create(task=TASK, techniques=["knn", "lora"], dispatch=False)

    study_cancel(study)

    assert Study.objects.get(pk=study.pk).status == Status.CANCELLED
    assert not TrainingRun.objects.exclude(status=TrainingRun.Status.CANCELLED).exists()
    assert arm_fit(study.arms.first().pk) == ENDED
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"techniques": ["magic"]}, "techniques"),
        ({"answers": {"latency_budget_ms": -1}}, "latency_budget_ms"),
        ({"options": {"lora": {"epochs": 0}}, "techniques": ["lora"]}, "epochs"),
        ({"options": {"lora": {"epochs": 1}}, "techniques": ["knn"]}, "options"),
    ],
)
def test_a_bad_study_is_refused_with_its_field_and_nothing_stored(db, given, field):
    with pytest.raises(ApplicationError) as raised:
        study_create(task=TASK, dispatch=False, **given)
    assert raised.value.field == field
    assert not Study.objects.exists()
    assert not TrainingRun.objects.exists()


def test_the_command_names_an_unknown_task(db):
    with pytest.raises(CommandError, match="no-such-task"):
        call_command("compare_techniques", "no-such-task", stdout=io.StringIO())


def test_adopting_needs_a_finished_study(db):
    study = study_create(task=TASK, techniques=["knn"], dispatch=False)
    with pytest.raises(StudyError):
        study_adopt(study)


# Who may use the lab -----------------------------------------------------------------------------


@pytest.fixture
def advisor(client):
    user = User.objects.create_user(f"adv-{uuid.uuid4().hex[:6]}")
    Group.objects.get(name=roles.ADVISOR).user_set.add(user)
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/lab/", "/lab/studies/1/", "/api/lab/studies", "/api/lab/studies/1"])
def test_advisors_and_anonymous_people_cannot_use_the_lab(db, client, advisor, path):
    assert advisor.get(path).status_code == 403
    client.logout()
    anonymous = client.get(path)
    assert anonymous.status_code in (302, 401, 403)
    if anonymous.status_code == 302:
        assert anonymous["Location"].startswith("/accounts/login/")
    assert client.post("/api/lab/studies", {"task": TASK}, content_type="application/json").status_code in (
        401,
        403,
    )


def test_an_engineer_starts_a_study_by_the_api_and_reads_it(db, engineer, django_capture_on_commit_callbacks):
    response = engineer.post(
        "/api/lab/studies", {"task": TASK, "techniques": ["knn", "tfidf"]}, content_type="application/json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert [p["technique"] for p in body["progress"]] == ["knn", "tfidf"]
    assert engineer.get(f"/api/lab/studies/{body['study']}").status_code == 200
    page = engineer.get(f"/lab/studies/{body['study']}/").content.decode()
    assert 'role="progressbar"' in page
    assert engineer.post(f"/api/lab/studies/{body['study']}/cancel").json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"task": TASK, "techniques": ["magic"]}, "techniques"),
        ({"task": TASK, "answers": {"change": "hourly"}}, "change"),
        ({"techniques": ["knn"]}, "task"),
    ],
)
def test_a_bad_study_request_gets_a_400_naming_its_field(db, engineer, body, field):
    response = engineer.post("/api/lab/studies", body, content_type="application/json")

    assert response.status_code == 400
    assert field in json.dumps(response.json())


def test_an_unknown_task_is_named(db, engineer):
    response = engineer.post("/api/lab/studies", {"task": "no-such-task"}, content_type="application/json")

    assert response.status_code == 400
    assert "no-such-task" in json.dumps(response.json())
