from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from assistant.db.urls import database_url
from assistant.knowledge.models import Collection
from assistant.knowledge.services import FilesReport, documents_index, files_submit, lexicon_refresh
from tests.support.processes import RedisServer, Worker, project_env


@pytest.fixture(scope="session")
def broker() -> redis.Redis:
    """The real Redis the project is configured with; the suite needs it running."""
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"no Redis at REDIS_URL={settings.REDIS_URL}: the tests use a real broker ({exc})")
    return client


@pytest.fixture
def start_worker(
    broker: redis.Redis, transactional_db: None, tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    """Start real Celery worker processes on the test database; all are stopped afterwards."""
    from django.db import connection

    workers: list[Worker] = []
    base_env = project_env(DATABASE_URL=database_url(connection.settings_dict))

    def start(queue: str, **env: str) -> Worker:
        worker = Worker(queue, tmp_path, {**base_env, **env})
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Production-strength hashing costs ~0.3 s a user; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def index_files() -> Callable[..., FilesReport]:
    """Submit files to a collection and index them here, as the CLI does."""

    def index(collection: Collection, files: list[tuple[str, bytes]], **details: object) -> FilesReport:
        report = files_submit(collection=collection, files=files, enqueue=False, **details)
        documents_index([s.document.pk for s in report.submitted if s.changed])
        lexicon_refresh()
        return report

    return index
