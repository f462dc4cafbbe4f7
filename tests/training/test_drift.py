"""Drift audits: live predictions against the training data, by PSI, on the schedule."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from assistant.training.inference import predict
from assistant.training.models import DriftAudit
from assistant.training.services import drift_audit, psi, version_activate
from assistant.training.tasks import drift_audit_task
from tests.support.training import TOPIC_TASK, tone_examples

pytestmark = pytest.mark.django_db
TASK = TOPIC_TASK.name


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert 0 < psi([0.5, 0.5], [0.6, 0.4]) < psi([0.5, 0.5], [0.9, 0.1])


def test_a_sample_like_the_training_data_is_stable_and_a_shifted_one_drifts(train, settings):
    settings.DRIFT_MIN_SAMPLES = 150
    version = version_activate(train(epochs=2))
    like_training = random.Random(0).sample([e.text for e in tone_examples()], 300)

    predict(TASK, like_training)
    stable = drift_audit(version)

    version.predictions.all().delete()
    predict(TASK, [e.text for e in tone_examples(labels=("fraud",))][:150])
    shifted = drift_audit(version)

    assert stable.verdict == DriftAudit.Verdict.STABLE, stable.details
    assert stable.samples == 300
    assert stable.label_psi < settings.DRIFT_PSI_THRESHOLD
    assert stable.embedding_psi < settings.DRIFT_PSI_THRESHOLD
    assert shifted.verdict == DriftAudit.Verdict.DRIFT
    assert shifted.label_psi > settings.DRIFT_PSI_THRESHOLD
    assert shifted.embedding_psi > settings.DRIFT_PSI_THRESHOLD
    assert "fraud" in shifted.details["labels_most_shifted"]


def test_too_few_predictions_in_the_window_are_reported_as_such(train):
    version = version_activate(train(epochs=1))
    predict(TASK, ["my card pin today"] * 10)

    audit = drift_audit(version, now=timezone.now() + timedelta(hours=1))

    assert audit.verdict == DriftAudit.Verdict.TOO_LITTLE_DATA
    assert audit.samples == 10
    outside = drift_audit(version, now=timezone.now() + timedelta(days=2))
    assert outside.samples == 0


def test_the_audit_runs_on_the_beat_schedule_for_every_active_version(train, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["training-drift-audit"]
    assert entry["task"] == "training.drift_audit"
    version = version_activate(train(epochs=1))

    assert drift_audit_task.name == entry["task"]
    drift_audit_task.apply()

    assert DriftAudit.objects.get().model_version == version
