from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from assistant.core import roles
from assistant.training import inference
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import run_execute, run_submit
from tests.support.training import TOPIC_TASK, tiny_encoder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return str(tiny_encoder(tmp_path_factory.mktemp("tiny-encoder")))


@pytest.fixture(autouse=True)
def training_settings(settings, tmp_path, tiny_model) -> None:
    settings.MODELS_DIR = tmp_path / "models"
    settings.TRAINING_BASE_MODEL = tiny_model
    settings.DRIFT_MIN_SAMPLES = 50
    inference._cache.clear()
    inference._pending.clear()
    inference._active.clear()


@pytest.fixture
def train(db) -> Callable[..., ModelVersion]:
    """Train the test task in this process; returns the registered (candidate) version."""

    def run(**options: object) -> ModelVersion:
        submitted = run_submit(task=TOPIC_TASK.name, options=options, dispatch=False)
        finished = run_execute(submitted.pk)
        assert finished.status == TrainingRun.Status.SUCCEEDED, finished.error
        return finished.model_version

    return run


@pytest.fixture
def artefact(train) -> Callable[[ModelVersion], Path]:
    return lambda version: Path(version.artefact_path)


@pytest.fixture
def engineer(client):
    """A test client signed in as an ML engineer (staff, for the admin pages too)."""
    user = User.objects.create_user("mel", password="pw", is_staff=True)
    Group.objects.get(name=roles.ML_ENGINEER).user_set.add(user)
    client.force_login(user)
    return client
