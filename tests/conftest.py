import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings

from assistant.db.urls import database_url
from assistant.knowledge.models import Collection
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import FilesReport, files_submit
from tests.support.openai_server import FakeChatServer
from tests.support.processes import RedisServer, Worker, project_env
from tests.support.webhooks import Receiver

# The tiers: `make test-fast` leaves out `slow` and `browser`; `make test` runs every test but `gpu`.
# A test is slow when it trains a model or starts processes; these fixtures make it so wherever it
# uses them, so a new test is tiered by what it needs. Tests slow for another reason say so.
SLOW_FIXTURES = frozenset(
    {"start_worker", "redis_server", "claims_artefacts", "typology_artefacts", "intent_artefact", "train"}
)
BROWSER_FIXTURES = frozenset({"browser_page"})
# The folders whose tests share a model trained once per session: under xdist each runs whole on
# one worker, so the model trains once a run while the other workers take everything else.
MODEL_FOLDERS = ("tests/claims/", "tests/aml/", "tests/chat/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(optionalhook=True)  # without xdist (`-p no:xdist`) there is no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Work units: a model folder whole, any other test module whole."""
    from xdist.scheduler import LoadScopeScheduling

    class ModelFolderScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            folder = next((f for f in MODEL_FOLDERS if nodeid.startswith(f)), None)
            return folder or super()._split_scope(nodeid)

    return ModelFolderScheduling(config, log)


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
        worker = Worker(queue, tmp_path, {**base_env, "TEST_QUEUE": queue, **env})
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def test_queue(broker: redis.Redis) -> Iterator[str]:
    """Route the integration, knowledge, claims, AML and lab tasks to a queue of this test's own (for
    its worker)."""
    from tests.support.celery_app import app, routes_set, test_queue_routes

    queue = f"test-{uuid.uuid4().hex[:12]}"
    routes = app.conf.task_routes
    routes_set(test_queue_routes(queue))
    yield queue
    routes_set(routes)
    broker.delete(queue)  # what no worker took: tasks sent after the test's worker stopped


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Start webhook receivers on free local ports; all are stopped afterwards."""
    receivers: list[Receiver] = []

    def start(secret: str, failures: int = 0) -> Receiver:
        receivers.append(Receiver(secret, failures=failures))
        return receivers[-1]

    yield start
    for r in receivers:
        r.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def own_broker(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> RedisServer:
    """Services send their tasks, routed as configured, to a throwaway Redis this test stops and
    starts again at will."""
    app = Celery("finassist", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = redis_server.url
    monkeypatch.setattr("assistant.core.dispatch.app", app)
    return redis_server


@pytest.fixture(autouse=True)
def own_cache(settings) -> None:
    """Each test's own cache keys (throttle counts): the shared Redis outlives a test's transaction
    and is shared by the xdist workers."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def audit_checkpoints(settings, tmp_path: Path) -> Path:
    """Each test's own checkpoint file: none of the local site's, none of another test's."""
    settings.AUDIT_CHECKPOINTS = tmp_path / "audit" / "checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINTS


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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Browser tests keep their screenshots here (var/ is the project's local state, not committed).
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "test-output"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def site(transactional_db, test_queue):
    """A live server of this test's own, stopped when the test ends. What it queues (claims
    submitted through it are committed, so their triage is sent) goes to the test's own queue,
    never to the queues of the application's workers."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost")
    yield server
    server.stop()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def _chromium(viewport: dict[str, int], *, phone: bool = False) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=1)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        yield page
        browser.close()


@pytest.fixture
def browser_page(site):
    """A Chromium page 1280 px wide. Request it after the fixtures that write data: while
    Playwright's event loop runs, Django refuses database access from the test (it would open a
    connection of its own that nothing closes)."""
    with _chromium(DESKTOP) as page:
        yield page


@pytest.fixture
def phone_page(site):
    """A Chromium page as a 390 px phone shows it (touch, mobile viewport); as `browser_page`, ask
    for it after the fixtures that write data."""
    with _chromium(PHONE, phone=True) as page:
        yield page


@pytest.fixture(params=["desktop", "phone"])
def any_page(request, site):
    """The test once on a 1280 px desktop page and once on a 390 px phone; `any_page.size` says which."""
    with _chromium(DESKTOP if request.param == "desktop" else PHONE, phone=request.param == "phone") as page:
        page.size = request.param
        yield page


def fits_width(page: Any) -> bool:
    """Whether the page needs no sideways scrolling."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.fixture
def chat_server(settings) -> Iterator[Callable[[list[int | str]], FakeChatServer]]:
    """Start an OpenAI-compatible test server answering from a script, as the configured backend."""
    from assistant.generation import backend

    servers: list[FakeChatServer] = []

    def start(script: list[int | str]) -> FakeChatServer:
        server = FakeChatServer(script)
        servers.append(server)
        settings.GENERATION_BACKEND = "openai"
        settings.OPENAI_BASE_URL = server.url
        settings.OPENAI_MODEL = "tiny-chat"
        settings.OPENAI_API_KEY = "sk-test"
        settings.GENERATION_RETRIES = 2
        settings.GENERATION_TIMEOUT = 5.0
        backend.cache_clear()
        return server

    yield start
    backend.cache_clear()
    for server in servers:
        server.stop()
