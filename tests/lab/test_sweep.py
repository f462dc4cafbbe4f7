"""A study whose worker died resumes: the lab's sweep sends its stalled arms and its finish again,
the training sweep leaves the arms' runs to it, and a duplicate finds the work taken."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from assistant.training.models import TrainingRun
from assistant.training.services import runs_requeue_stale
from lab.models import Arm, ArmRun, Status, Study
from lab.services import BUSY, MEASURING, arm_fit, arms_requeue_stale, study_create
from tests.support.training import TOPIC_TASK

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(
        "lab.services.arm_fit_later",
        lambda arm_id, *, fine_tuning: calls.append(("train" if fine_tuning else "fit", arm_id)),
    )
    monkeypatch.setattr("lab.services.arm_measure_later", lambda arm_id: calls.append(("measure", arm_id)))
    monkeypatch.setattr(
        "lab.services.study_finish_later", lambda study_id: calls.append(("finish", study_id))
    )
    return calls


@pytest.fixture
def study() -> Study:
    return study_create(task=TOPIC_TASK.name, techniques=["knn", "lora"], curve_sizes=(8,), dispatch=False)


def arm(study: Study, technique: str) -> Arm:
    return study.arms.get(technique=technique)


def stalled(settings) -> datetime:
    return timezone.now() - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S + 1)


def test_stalled_arms_are_sent_again_to_fit_or_to_measure_once_a_period(study, sent, settings):
    long_ago = stalled(settings)
    lora, knn = arm(study, "lora"), arm(study, "knn")
    Arm.objects.filter(pk=lora.pk).update(
        status=Status.RUNNING, stage="curve: 8 a label", progressed_at=long_ago
    )
    Arm.objects.filter(pk=knn.pk).update(status=Status.RUNNING, stage=MEASURING, progressed_at=long_ago)
    TrainingRun.objects.filter(pk=lora.runs.first().run_id).update(
        status=TrainingRun.Status.RUNNING, progressed_at=long_ago
    )

    assert arms_requeue_stale() == 2

    assert sorted(sent) == [("measure", knn.pk), ("train", lora.pk)]
    assert arms_requeue_stale() == 0  # not again until another period passes


def test_an_arm_whose_run_is_progressing_is_left_alone(study, sent, settings):
    lora = arm(study, "lora")
    Arm.objects.filter(pk=lora.pk).update(
        status=Status.RUNNING, stage="main", progressed_at=stalled(settings)
    )
    TrainingRun.objects.filter(pk=lora.runs.first().run_id).update(
        status=TrainingRun.Status.RUNNING, progressed_at=timezone.now()
    )

    assert arms_requeue_stale() == 0
    assert sent == []


def test_a_study_whose_arms_all_ended_without_its_finish_is_finished(study, sent, settings):
    study.arms.update(status=Status.SUCCEEDED, finished_at=stalled(settings))
    Study.objects.filter(pk=study.pk).update(status=Status.RUNNING)

    assert arms_requeue_stale() == 1
    assert sent == [("finish", study.pk)]


def test_the_training_sweep_leaves_an_arms_runs_to_the_lab(study, settings, monkeypatch):
    resent: list[int] = []
    monkeypatch.setattr("assistant.training.services.train_later", lambda pk, **_: resent.append(pk))
    runs = ArmRun.objects.filter(arm__study=study).values_list("run_id", flat=True)
    TrainingRun.objects.filter(pk__in=runs).update(
        status=TrainingRun.Status.RUNNING, progressed_at=stalled(settings)
    )

    assert runs_requeue_stale() == 0
    assert resent == []
    assert not TrainingRun.objects.filter(pk__in=runs, sent_alone=True).exists()


def test_a_duplicate_of_an_arm_being_fitted_elsewhere_leaves_it_be(study):
    lora = arm(study, "lora")
    TrainingRun.objects.filter(pk=lora.runs.first().run_id).update(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now(), progressed_at=timezone.now()
    )

    assert arm_fit(lora.pk) == BUSY

    lora.refresh_from_db()
    assert (lora.status, lora.error) == (Status.RUNNING, "")
