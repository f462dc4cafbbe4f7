"""The admin an ML engineer works in: runs, versions side by side, activation, rollback, cancel."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from assistant.core import roles
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.selectors import RunTiming, run_timing
from assistant.training.services import run_submit, version_activate
from tests.support.training import TOPIC_TASK
from tests.training.factories import audit_create, running_run, version_create

pytestmark = pytest.mark.django_db
TASK = TOPIC_TASK.name


def test_the_task_page_shows_versions_side_by_side_and_activates_and_rolls_back(engineer, train):
    first, second = train(epochs=1), train(epochs=1, seed=2)

    page = engineer.get(f"/admin/training/modelversion/task/{TASK}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f">v{first.number}</a>" in html
    assert f">v{second.number}</a>" in html
    assert "macro-F1" in html
    assert 'aria-label="confusion matrix"' in html

    engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"activate": first.pk})
    engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"activate": second.pk})
    assert ModelVersion.objects.get(status="active") == second
    response = engineer.post(f"/admin/training/modelversion/task/{TASK}/", {"rollback": "1"}, follow=True)
    assert ModelVersion.objects.get(status="active") == first
    assert f"rolled back to v{first.number}" in response.content.decode()


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

    assert 'hx-trigger="every 2s"' in page
    assert "step 3 of 10 (30%)" in page
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


def test_versions_are_numbered_within_their_task_wherever_the_admin_names_them(engineer):
    first = version_create()
    other_task = version_create(task="other-task")
    second = version_create()
    run = running_run()
    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    ModelVersion.objects.filter(pk=second.pk).update(run=run)

    task_page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    version_list = engineer.get("/admin/training/modelversion/").content.decode()
    run_page = engineer.get(f"/admin/training/trainingrun/{run.pk}/change/").content.decode()
    run_list = engineer.get("/admin/training/trainingrun/").content.decode()

    assert [first.number, other_task.number, second.number] == [1, 1, 2]
    assert str(second) == f"{TASK} v2 (knn, candidate)"
    assert ">v1</a>" in task_page
    assert ">v2</a>" in task_page
    assert f">v{second.pk}<" not in task_page
    assert "Confusion matrix of v2" in task_page
    assert version_list.count(">v1</a>") == 2  # one a task
    assert ">v2</a>" in version_list
    assert ">v2</a>" in run_page
    assert ">v2</a>" in run_list


def test_rollback_is_offered_only_when_a_version_was_active_before_the_active_one(engineer):
    first = version_create(status="active")
    page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    assert 'name="rollback"' not in page

    ModelVersion.objects.filter(pk=first.pk).update(status="retired")
    version_create(status="active", previous=first)
    page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    assert 'name="rollback"' in page
    assert "Roll back to v1" in page


def test_the_time_left_is_the_pace_so_far_times_the_steps_left_less_the_time_since_the_last_report():
    started = datetime(2026, 6, 1, 9, tzinfo=UTC)
    run = TrainingRun(
        status="running", step=30, total_steps=120, started_at=started,
        progressed_at=started + timedelta(seconds=60),
    )  # fmt: skip

    timing = run_timing(run, started + timedelta(seconds=70))

    assert timing.elapsed == 70
    assert timing.left == 2 * 90 - 10
    assert run_timing(TrainingRun(status="queued"), started) == RunTiming(None, None)
    run.status, run.finished_at = "succeeded", started + timedelta(seconds=300)
    assert run_timing(run, started + timedelta(days=1)) == RunTiming(300, None)


def test_the_run_page_asks_for_its_progress_until_the_run_ends_then_reloads_once(engineer):
    run = running_run(step=30, total_steps=120, seconds_in=60)
    page = engineer.get(f"/admin/training/trainingrun/{run.pk}/change/").content.decode()
    poll = f"/admin/training/trainingrun/{run.pk}/change/?progress=1&amp;shown=running"

    fragment = engineer.get(
        f"/admin/training/trainingrun/{run.pk}/change/", {"progress": 1, "shown": "running"}
    )
    html = fragment.content.decode()

    assert f'hx-get="{poll}"' in page
    assert "htmx-2.0.11.min.js" in page
    assert html.lstrip().startswith('<div id="run-progress"')
    assert 'hx-trigger="every 2s"' in html
    assert "step 30 of 120 (25%)" in html
    assert 'time left: <span class="run-left">about 3 min</span>' in html
    assert 'aria-label="training loss"' in html
    assert "HX-Refresh" not in fragment.headers

    TrainingRun.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())
    ended = engineer.get(f"/admin/training/trainingrun/{run.pk}/change/", {"progress": 1, "shown": "running"})

    assert ended.headers["HX-Refresh"] == "true"
    assert "hx-trigger" not in ended.content.decode()
    assert "time left" not in ended.content.decode()


def test_a_queued_run_says_its_time_left_is_not_known_until_it_starts(engineer):
    run = run_submit(task=TASK, options={}, dispatch=False)

    html = engineer.get(f"/admin/training/trainingrun/{run.pk}/change/", {"progress": 1}).content.decode()

    assert "waiting for a worker" in html
    assert "not known until it starts" in html
    assert 'hx-trigger="every 2s"' in html


def test_people_without_the_role_cannot_follow_a_run(client):
    run = running_run()
    staff = User.objects.create_user("kim", password="pw", is_staff=True)
    Group.objects.get(name=roles.KNOWLEDGE_MANAGER).user_set.add(staff)
    client.force_login(staff)

    assert client.get(f"/admin/training/trainingrun/{run.pk}/change/", {"progress": 1}).status_code == 403


def test_before_any_drift_audit_the_pages_say_what_one_is_and_when_it_runs(engineer):
    version_create(status="active")

    task_page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    audits_page = engineer.get("/admin/training/driftaudit/").content.decode()

    for page in (task_page, audits_page):
        assert "No drift audits yet." in page
        assert "A drift audit compares the live predictions" in page
        assert "Audits run every 1 h (the workers' beat schedule)" in page
        assert 'aria-label="drift audits"' not in page


def test_drift_audits_are_drawn_over_time_on_the_task_page_and_the_audit_list(engineer):
    version = version_create(status="active")
    start = timezone.now() - timedelta(hours=5)
    for hour in range(4):
        audit_create(version, start + timedelta(hours=hour), label_psi=0.05 * hour, embedding_psi=0.1)
    audit_create(version, start + timedelta(hours=4), label_psi=None, embedding_psi=None)

    task_page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()
    audits_page = engineer.get("/admin/training/driftaudit/").content.decode()

    assert 'aria-label="drift audits"' in task_page
    assert "embedding PSI" in task_page
    assert 'aria-label="drift audits"' in audits_page
    assert f">{TASK}</text>" in audits_page  # a line a task
    assert "test-topic v1 (knn, active)" in audits_page


def test_audits_with_too_little_data_only_are_counted_not_drawn(engineer):
    version = version_create(status="active")
    audit_create(version, timezone.now(), label_psi=None, embedding_psi=None)

    page = engineer.get(f"/admin/training/modelversion/task/{TASK}/").content.decode()

    assert "1 drift audit, none with enough live predictions to judge." in page
