"""`manage.py serve`, what `make run` ends with: web, worker and beat, or web alone."""

import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings

from assistant.db.urls import database_url
from tests.support.processes import ROOT, free_port, project_env, wait_for

pytestmark = pytest.mark.slow  # starts the whole application in processes


class Served:
    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{self.port}", "--web-workers", "1"],
            cwd=ROOT,
            env=project_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        wait_for(self._up, 90, "the web server to answer")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(self.process.stdout.read())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def children(self) -> dict[int, str]:
        tree = psutil.Process(self.process.pid).children(recursive=True)
        return {child.pid: " ".join(child.cmdline()) for child in tree}

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return out


def test_serve_without_a_broker_runs_tasks_in_process_and_says_so():
    served = Served(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    commands = served.children().values()
    output = served.stop()

    assert "No broker answers at REDIS_URL" in output
    assert "Tasks will run in-process in the web server (FINASSIST_CELERY_EAGER=true)" in output
    assert not [command for command in commands if "celery" in command]
    assert served.process.returncode == 0


@pytest.fixture
def served_with_broker(redis_server, transactional_db, tmp_path) -> tuple[Served, Celery]:
    """serve with its own broker, data directory and the test database (nothing else consumes its
    queues), and a client of that broker."""
    from django.db import connection

    served = Served(
        REDIS_URL=redis_server.url,
        FINASSIST_DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url(connection.settings_dict),
    )
    # Not the current app: shared tasks would otherwise bind to it for the rest of the run.
    return served, Celery(broker=redis_server.url, backend=redis_server.url, set_as_current=False)


def test_serve_with_a_broker_starts_workers_on_every_queue_training_niced_and_beat(served_with_broker):
    served, client = served_with_broker
    try:
        answers = [
            client.send_task("core.system_probe", queue=queue).get(timeout=60)
            for queue in settings.CELERY_QUEUES
        ]
        commands = served.children()
        training = [psutil.Process(pid).nice() for pid, command in commands.items() if "-Q gpu" in command]
    finally:
        output = served.stop()

    assert "starting the workers and beat" in output
    assert {answer["pid"] for answer in answers} <= set(commands)
    assert training  # the training worker and its pool process, both niced
    assert set(training) == {10}
    assert all(answer["checks"]["database"]["ok"] for answer in answers)
    assert any("celery -A assistant beat" in command for command in commands.values())
    assert served.process.returncode == 0


def _answered(client: Celery, *, within_s: float) -> dict:
    """A probe's answer from a `default` worker, asking again every 15 s (one sent while the worker
    was starting up may wait for the broker's visibility timeout)."""
    deadline = time.monotonic() + within_s
    while True:
        result = client.send_task("core.system_probe", queue="default")
        try:
            return result.get(timeout=15)
        except CeleryTimeout:
            # Unsubscribe now: left to the garbage collector, it would run once this test's broker
            # has stopped and raise in whichever test is running then.
            client.backend.remove_pending_result(result)
            if time.monotonic() > deadline:
                raise


def test_a_worker_killed_under_serve_is_started_again_and_the_site_keeps_serving(served_with_broker):
    served, client = served_with_broker
    try:
        first = client.send_task("core.system_probe", queue="default").get(timeout=60)
        main = psutil.Process(first["pid"]).parent()  # the serving worker's main process
        main.kill()
        wait_for(served._up, 10, "the web server, while the worker is down")
        again = _answered(client, within_s=120)
        restarted = psutil.Process(again["pid"]).parent().pid
    finally:
        output = served.stop()

    assert again["pid"] != first["pid"]
    assert restarted != main.pid
    assert "worker exited with status -9; starting it again in 1 s" in output
    assert "worker started again" in output
    assert served.process.returncode == 0
