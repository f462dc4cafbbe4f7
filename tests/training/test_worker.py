"""Training through a real Celery worker on its own queue, as the gpu queue's workers do."""

import uuid
from pathlib import Path

from assistant.training.models import ModelVersion
from assistant.training.services import run_submit
from assistant.training.tasks import train_task
from tests.support.training import TOPIC_TASK


def test_a_gpu_queue_worker_trains_a_submitted_run(start_worker, settings, tiny_model, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    start_worker(
        queue, FINASSIST_TRAINING_BASE_MODEL=tiny_model, FINASSIST_MODELS_DIR=str(settings.MODELS_DIR)
    )
    run = run_submit(task=TOPIC_TASK.name, options={"epochs": 1}, dispatch=False)

    status = train_task.apply_async((run.pk,), queue=queue).get(timeout=180)

    run.refresh_from_db()
    assert status == "succeeded", run.error
    assert run.started_at
    assert run.finished_at
    assert run.step == run.total_steps > 0
    version = ModelVersion.objects.get()
    assert version.run_id == run.pk
    assert Path(version.artefact_path).is_dir()
