"""The model registry: activation by a person or by the rule, rollback, and refusing bad artefacts."""

import json
from pathlib import Path

import pytest
from django.db import IntegrityError

from assistant.core.errors import ApplicationError
from assistant.training import inference
from assistant.training.inference import NoActiveModel, predict, records_flush
from assistant.training.modeling import HEAD
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import run_execute, run_submit, version_activate, version_rollback
from assistant.training.tasks import version_prepare_task
from assistant.training.techniques.artefact import MANIFEST, ArtefactError
from tests.support.training import PREPARED_TASK, TOPIC_TASK, prepared_count

pytestmark = pytest.mark.django_db
TASK = TOPIC_TASK.name


def test_activation_retires_the_previous_version_and_rollback_restores_it(train):
    first, second = train(epochs=1), train(epochs=1, seed=1)

    version_activate(first)
    version_activate(second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ModelVersion.Status.RETIRED, ModelVersion.Status.ACTIVE)
    assert second.previous == first
    assert predict(TASK, ["my debit card is a problem"])[0].model_version == second.pk

    restored = version_rollback(TASK)

    second.refresh_from_db()
    assert restored.pk == first.pk
    assert restored.status == ModelVersion.Status.ACTIVE
    assert second.status == ModelVersion.Status.RETIRED
    assert predict(TASK, ["my debit card is a problem"])[0].model_version == first.pk
    with pytest.raises(ApplicationError, match="was the first active one; nothing to roll back to"):
        version_rollback(TASK)


def test_the_database_allows_one_active_version_per_task(train):
    first, second = train(epochs=1), train(epochs=1, seed=1)
    version_activate(first)

    with pytest.raises(IntegrityError):
        ModelVersion.objects.filter(pk=second.pk).update(status=ModelVersion.Status.ACTIVE)


def test_without_an_active_version_prediction_is_refused():
    with pytest.raises(NoActiveModel, match="has no active model version"):
        predict(TASK, ["hello"])


def test_the_rule_activates_only_a_better_version(train):
    weak = train(epochs=1, learning_rate=1e-9, head_learning_rate=1e-9)
    version_activate(weak)

    strong = run_execute(
        run_submit(
            task=TASK, options={"epochs": 3}, activation=TrainingRun.Activation.IF_BETTER, dispatch=False
        ).pk
    ).model_version
    strong.refresh_from_db()

    compared = strong.metrics["compared_with"]
    assert compared["version"] == weak.pk
    assert compared["macro_f1"][str(strong.pk)] > compared["macro_f1"][str(weak.pk)]
    assert strong.status == ModelVersion.Status.ACTIVE

    worse = run_execute(
        run_submit(
            task=TASK,
            options={"epochs": 1, "learning_rate": 1e-9, "head_learning_rate": 1e-9},
            activation=TrainingRun.Activation.IF_BETTER,
            dispatch=False,
        ).pk
    ).model_version
    worse.refresh_from_db()
    assert worse.status == ModelVersion.Status.CANDIDATE


def test_a_tampered_artefact_is_refused_at_load_and_at_activation(train):
    version = train(epochs=1)
    head = Path(version.artefact_path) / HEAD
    head.write_bytes(head.read_bytes()[:-4] + b"\0\0\0\0")

    with pytest.raises(ArtefactError, match="does not match its registered checksum"):
        version_activate(version)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.CANDIDATE


def test_a_missing_artefact_is_an_error_not_a_fallback(train):
    good, gone = train(epochs=1), train(epochs=1, seed=3)
    version_activate(good)
    ModelVersion.objects.filter(pk=gone.pk).update(artefact_path=str(Path(gone.artefact_path) / "moved"))
    gone.refresh_from_db()

    with pytest.raises(ArtefactError, match="is missing or incomplete"):
        version_activate(gone)
    assert predict(TASK, ["phishing email today"])[0].model_version == good.pk


def test_an_artefact_of_another_format_version_is_refused(train):
    version = train(epochs=1)
    manifest_path = Path(version.artefact_path) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}))
    from assistant.training.techniques.artefact import checksum

    ModelVersion.objects.filter(pk=version.pk).update(artefact_checksum=checksum(Path(version.artefact_path)))
    version.refresh_from_db()
    inference._cache.clear()

    with pytest.raises(ArtefactError, match="has format version 99; this code reads version 1"):
        version_activate(version)


def test_predictions_carry_label_confidence_abstain_flag_and_version(train):
    version = version_activate(train(epochs=2))

    predictions = predict(TASK, ["there is something wrong with the mortgage", "scam urgently"])

    assert [p.model_version for p in predictions] == [version.pk, version.pk]
    for prediction in predictions:
        assert prediction.label in TOPIC_TASK.labels
        assert 0 < prediction.confidence <= 1
        assert prediction.abstained == (prediction.confidence < version.abstain_threshold)
        assert prediction.alternatives[0] == (prediction.label, prediction.confidence)
    assert version.predictions.count() == 0  # written in batches
    records_flush()
    assert version.predictions.count() == 2


@pytest.mark.parametrize(
    ("texts", "message"),
    [([], "give one or more texts"), (["ok", "  "], "text 2 is empty"), (["x" * 10_001], "longer than")],
)
def test_bad_inputs_are_refused_before_any_model_runs(train, texts, message):
    version_activate(train(epochs=1))

    with pytest.raises(ApplicationError, match=message):
        predict(TASK, texts)


def test_drift_records_are_written_a_batch_at_a_time_or_when_they_wait_too_long(train, monkeypatch):
    version = version_activate(train(epochs=1))

    for _ in range(inference.RECORD_BATCH - 1):
        predict(TASK, ["my card pin today"])
    assert version.predictions.count() == 0
    predict(TASK, ["my card pin today"])
    assert version.predictions.count() == inference.RECORD_BATCH

    monkeypatch.setattr(inference, "RECORD_WAIT_S", 0.0)
    predict(TASK, ["phishing email"])
    assert version.predictions.count() == inference.RECORD_BATCH + 1


def _prepared_candidate(**options: object) -> ModelVersion:
    return run_execute(run_submit(task=PREPARED_TASK.name, options=options, dispatch=False).pk).model_version


@pytest.mark.slow
def test_an_activation_in_a_request_queues_the_preparation_for_a_worker(django_capture_on_commit_callbacks):
    version = _prepared_candidate(epochs=1)

    with django_capture_on_commit_callbacks() as queued:
        version_activate(version)

    assert len(queued) == 1
    assert prepared_count(version.pk) == 0  # not in the request
    assert version_prepare_task.run(version.pk) == "prepared"  # the inference worker's part
    assert prepared_count(version.pk) == 1


@pytest.mark.slow
def test_a_run_that_activates_its_version_prepares_it_where_it_runs(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        run = run_execute(
            run_submit(
                task=PREPARED_TASK.name,
                options={"epochs": 1},
                activation=TrainingRun.Activation.ALWAYS,
                dispatch=False,
            ).pk
        )

    assert run.model_version.status == ModelVersion.Status.ACTIVE
    assert prepared_count(run.model_version.pk) == 1
    assert queued == []
