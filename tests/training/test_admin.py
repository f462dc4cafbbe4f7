"""The admin an ML engineer works in: runs, versions side by side, activation, rollback, cancel."""

import pytest
from django.contrib.auth.models import Group, User

from assistant.core import roles
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import run_submit, version_activate
from tests.support.training import TOPIC_TASK

pytestmark = pytest.mark.django_db
TASK = TOPIC_TASK.name


def test_the_task_page_shows_versions_side_by_side_and_activates_and_rolls_back(engineer, train):
    first, second = train(epochs=1), train(epochs=1, seed=2)

    page = engineer.get(f"/admin/training/modelversion/task/{TASK}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"v{first.pk}" in html
    assert f"v{second.pk}" in html
    assert "macro-F1" in html
    assert 'aria-label="confusion matrix"' in html

    engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"activate": first.pk})
    engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"activate": second.pk})
    assert ModelVersion.objects.get(status="active") == second
    response = engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"rollback": "1"}, follow=True)
    assert ModelVersion.objects.get(status="active") == first
    assert f"rolled back to version {first.pk}" in response.content.decode()


def test_version_and_run_pages_show_metrics_confusion_matrix_and_loss_curve(engineer, train):
    version = train(epochs=1)

    version_page = engineer.get(f"/admin/training/modelversion/{version.pk}/change/").content.decode()
    run_page = engineer.get(f"/admin/training/trainingrun/{version.run_id}/change/").content.decode()

    assert "precision" in version_page
    assert 'aria-label="confusion matrix"' in version_page
    assert 'aria-label="training loss"' in run_page


def test_a_running_job_refreshes_and_can_be_cancelled(engineer):
    run = run_submit(task=TASK, options={}, dispatch=False)
    TrainingRun.objects.filter(pk=run.pk).update(
        status="running", step=3, total_steps=10, history=[{"step": 3, "epoch": 1, "loss": 0.9}]
    )

    page = engineer.get(f"/admin/training/trainingrun/{run.pk}/change/").content.decode()
    task_page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    engineer.post(f"/admin/training/trainingrun/{run.pk}/change/", {"cancel": "1"})

    assert 'http-equiv="refresh"' in page
    assert "30% (3/10)" in page
    assert 'aria-label="training loss"' in task_page
    assert TrainingRun.objects.get(pk=run.pk).cancel_requested


def test_the_train_page_queues_a_run_and_names_bad_input(engineer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = engineer.post(
            "/admin/training/trainingrun/train/",
            {"task": TASK, "method": "lora", "epochs": 1, "data_file": ""},
        )
    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert run.status == "queued"
    assert run.created_by.username == "mel"
    assert len(callbacks) == 1

    bad = engineer.post(
        "/admin/training/trainingrun/train/",
        {"task": TASK, "method": "lora", "epochs": 1, "data_file": "/nowhere/x.csv"},
    )
    assert bad.status_code == 200
    assert "no such file" in bad.content.decode()
    assert TrainingRun.objects.count() == 1


def test_people_without_the_role_cannot_activate(client, train):
    version = train(epochs=1)
    staff = User.objects.create_user("kim", password="pw", is_staff=True)
    Group.objects.get(name=roles.KNOWLEDGE_MANAGER).user_set.add(staff)
    client.force_login(staff)

    assert client.get(f"/admin/training/modelversion/task/{TASK}/").status_code == 403
    assert (
        client.post(f"/admin/training/modelversion/task/{TASK}/", {"activate": version.pk}).status_code == 403
    )
    version_activate(version)
    assert ModelVersion.objects.get(pk=version.pk).status == "active"
