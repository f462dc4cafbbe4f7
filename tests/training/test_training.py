"""Training runs end to end: in process, through a real worker, cancelled, refused."""

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from assistant.core.errors import ApplicationError
from assistant.training.config import ConfigError, TrainingConfig
from assistant.training.inference import ModelNotReady, NoActiveModel, predict
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import (
    run_cancel,
    run_execute,
    run_submit,
    runs_requeue_stale,
    versions_prepare_stale,
)
from assistant.training.techniques.artefact import MANIFEST
from tests.support.training import TOPIC_TASK

pytestmark = pytest.mark.django_db


def test_a_lora_run_registers_a_candidate_with_held_out_metrics(train):
    version = train(method="lora")

    run = version.run
    assert version.status == ModelVersion.Status.CANDIDATE
    assert version.method == "lora"
    assert version.base_model.endswith(Path(version.base_model).name)
    assert run.dataset_sizes["validation"] == version.metrics["examples"] > 0
    assert set(run.dataset_sizes) == {"train", "calibration", "validation"}
    for name in ("accuracy", "macro_f1", "ece"):
        assert 0 <= version.metrics[name] <= 1
    assert set(version.metrics["per_class"]) == set(TOPIC_TASK.labels)
    assert sum(map(sum, version.metrics["confusion_matrix"])) == version.metrics["examples"]
    assert {"torch", "transformers", "peft"} <= set(version.library_versions)
    folder = Path(version.artefact_path)
    assert (folder / "adapter" / "adapter_config.json").is_file()
    assert (folder / "adapter" / "adapter_model.safetensors").stat().st_size > 1000
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["labels"] == list(TOPIC_TASK.labels)
    assert manifest["abstain_threshold"] == version.abstain_threshold
    assert run.history[0]["step"] == 0
    assert "validation_accuracy" in run.history[0]
    assert any("loss" in entry for entry in run.history)


def test_a_full_fine_tune_trains_every_weight(train):
    version = train(method="full", epochs=1)

    assert version.method == "full"
    assert not (Path(version.artefact_path) / "adapter").exists()
    assert len(version.metrics["epoch_seconds"]) == 1


def test_the_same_seed_gives_the_same_model(train):
    first, second = train(seed=7, epochs=1), train(seed=7, epochs=1)

    assert len(first.run.history) > 3
    assert first.run.history == second.run.history
    assert first.artefact_checksum == second.artefact_checksum
    assert first.artefact_path != second.artefact_path


def test_qlora_without_cuda_fails_the_run_with_the_reason():
    run = run_submit(task=TOPIC_TASK.name, options={"method": "qlora"}, dispatch=False)

    run = run_execute(run.pk)

    assert run.status == TrainingRun.Status.FAILED
    assert "QLoRA needs a CUDA GPU" in run.error
    assert not ModelVersion.objects.exists()


def test_bad_options_are_refused_with_the_field_named():
    with pytest.raises(ConfigError) as raised:
        TrainingConfig.build({"epochs": 0})
    assert raised.value.field == "epochs"
    with pytest.raises(ConfigError, match="unknown training options: colour"):
        TrainingConfig.build({"colour": "red"})
    with pytest.raises(ConfigError, match="learning_rate must be a float"):
        TrainingConfig.build({"learning_rate": "fast"})
    with pytest.raises(ApplicationError, match="no classification task 'nope'"):
        run_submit(task="nope", options={}, dispatch=False)


def test_a_web_request_never_trains_in_process(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    with pytest.raises(ApplicationError, match="training runs on a Celery worker of the gpu queue"):
        run_submit(task=TOPIC_TASK.name, options={})

    assert not TrainingRun.objects.exists()


def test_a_queued_run_cancelled_never_starts():
    run = run_submit(task=TOPIC_TASK.name, options={}, dispatch=False)

    run_cancel(run)
    run = run_execute(run.pk)

    assert run.status == TrainingRun.Status.CANCELLED
    assert not ModelVersion.objects.exists()


def test_a_running_run_stops_at_its_next_report(monkeypatch):
    from assistant.training import engine

    monkeypatch.setattr(engine, "REPORTS", 10_000)
    run = run_submit(task=TOPIC_TASK.name, options={"epochs": 3}, dispatch=False)
    reports = []

    def cancel_on_first_report(report: engine.Progress) -> None:
        reports.append(report.step)
        TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)

    run = run_execute(run.pk, on_progress=cancel_on_first_report)

    assert run.status == TrainingRun.Status.CANCELLED
    assert reports == [1]
    assert not ModelVersion.objects.exists()


@pytest.mark.slow
def test_a_run_its_lost_worker_left_running_starts_again_only_on_redelivery():
    run = run_submit(task=TOPIC_TASK.name, options={"epochs": 1}, dispatch=False)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, step=5)

    assert run_execute(run.pk).status == TrainingRun.Status.RUNNING
    restarted = run_execute(run.pk, restart_interrupted=True)

    assert restarted.status == TrainingRun.Status.SUCCEEDED
    assert ModelVersion.objects.get().run_id == run.pk


def test_a_run_still_progressing_is_left_to_its_worker_and_a_stalled_one_is_sent_again(settings, monkeypatch):
    run = run_submit(task=TOPIC_TASK.name, options={"method": "knn"}, dispatch=False)
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(  # as if sent to a worker, which died
        status=TrainingRun.Status.RUNNING, progressed_at=now, sent_alone=True
    )
    sent: list[int] = []
    monkeypatch.setattr("assistant.training.services.train_later", lambda pk, fine_tuning: sent.append(pk))

    assert run_execute(run.pk, restart_interrupted=True).status == TrainingRun.Status.RUNNING  # a duplicate
    assert runs_requeue_stale() == 0
    stalled = now - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S + 1)
    TrainingRun.objects.filter(pk=run.pk).update(progressed_at=stalled)
    assert runs_requeue_stale() == 1
    assert sent == [run.pk]
    assert run_execute(run.pk, restart_interrupted=True).status == TrainingRun.Status.SUCCEEDED


def test_a_task_whose_first_version_is_being_fitted_is_not_ready_rather_than_missing():
    with pytest.raises(NoActiveModel):
        predict(TOPIC_TASK.name, ["my card"], record=False)

    run_submit(task=TOPIC_TASK.name, options={"method": "knn"}, activation="always", dispatch=False)

    with pytest.raises(ModelNotReady) as waiting:
        predict(TOPIC_TASK.name, ["my card"], record=False)
    assert waiting.value.status == 503


def test_an_active_version_still_not_ready_is_prepared_again_once_a_period(train, settings, monkeypatch):
    built: list[int] = []
    spec = dataclasses.replace(TOPIC_TASK, prepare=lambda version: None, prepared=lambda version: bool(built))
    monkeypatch.setattr("assistant.training.services.task_get", lambda name: spec)
    sent: list[int] = []
    monkeypatch.setattr("assistant.training.services.version_prepare_later", sent.append)
    version = train(method="knn")
    stalled = timezone.now() - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S + 1)
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ACTIVE, activated_at=stalled)

    assert versions_prepare_stale() == 1
    assert versions_prepare_stale() == 0  # not again within the period
    assert sent == [version.pk]
    cache.delete(f"training:prepare-resent:{version.pk}")
    built.append(version.pk)
    assert versions_prepare_stale() == 0
