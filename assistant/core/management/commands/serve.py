import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.health import broker_check

TRAINING_QUEUE = "gpu"
TRAINING_NICENESS = 10
# A worker or beat that exits is started again after BACKOFF_FIRST_S, doubled for each exit within
# STEADY_S of its start, at most BACKOFF_MOST_S.
BACKOFF_FIRST_S = 1.0
BACKOFF_MOST_S = 60.0
STEADY_S = 60.0


class Command(BaseCommand):
    help = (
        "Serve the web application with Celery workers and beat beside it (training on a worker of "
        "its own, at a lower CPU priority); when no broker answers, serve alone and run tasks in-process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(
        self, *args: Any, bind: str, web_workers: int, worker_concurrency: int, **options: Any
    ) -> None:
        python = [sys.executable, "-m"]
        commands: dict[str, list[str]] = {}
        child_env = dict(os.environ)
        broker = broker_check()
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("FINASSIST_CELERY_EAGER is set: tasks run in-process in the web server.")
        elif broker.ok:
            worker = [*python, "celery", "-A", "assistant", "worker", "--loglevel", "INFO"]
            serving = [queue for queue in settings.CELERY_QUEUES if queue != TRAINING_QUEUE]
            commands["worker"] = [
                *worker, "-Q", ",".join(serving), "-n", "serving@%h",
                "--concurrency", str(worker_concurrency),
            ]  # fmt: skip
            # Fine-tuning takes every core it is given for minutes: niced, it leaves them to the
            # web server, ingestion and the fits that serve first whenever those want them.
            commands["training-worker"] = [
                "nice", "-n", str(TRAINING_NICENESS), *worker, "-Q", TRAINING_QUEUE, "-n", "training@%h",
                "--concurrency", "1",
            ]  # fmt: skip
            commands["beat"] = [*python, "celery", "-A", "assistant", "beat", "--loglevel", "INFO"]
            self.stdout.write(f"Broker answers ({broker.detail}): starting the workers and beat.")
        else:
            child_env["FINASSIST_CELERY_EAGER"] = "true"
            self.stdout.write(
                self.style.WARNING(
                    f"No broker answers at REDIS_URL ({broker.detail}).\n"
                    "Tasks will run in-process in the web server (FINASSIST_CELERY_EAGER=true); "
                    "start Redis and run again for background workers."
                )
            )
        commands["web"] = [
            *python, "gunicorn", "assistant.wsgi:application",
            "--config", "python:assistant.gunicorn_hooks",
            "--bind", bind, "--workers", str(web_workers), "--threads", "4", "--worker-connections", "4",
            "--access-logfile", "-", "--timeout", "120",
        ]  # fmt: skip
        host, _, port = bind.rpartition(":")
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "") else host
        self.stdout.write(
            self.style.SUCCESS(f"finassist on http://{shown}:{port}/ (admin at /admin/); Ctrl-C stops.")
        )
        self.stdout.flush()
        code = self._supervise(commands, child_env)
        if code:
            raise CommandError(f"the web server exited with status {code}")

    def _supervise(self, commands: dict[str, list[str]], env: dict[str, str]) -> int:
        """Run the children until the web server ends or a signal comes; a worker or beat that
        exits is started again after a pause that doubles with each quick exit (the site keeps
        serving meanwhile). Returns the web server's exit status, or 0 after a signal."""
        children = {name: _Child(name, command, env) for name, command in commands.items()}

        def interrupt(*_: object) -> None:
            raise KeyboardInterrupt

        # Both, explicitly: a shell starting serve in the background leaves SIGINT ignored.
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)
        code = 0
        try:
            while True:
                web = children["web"].process.poll()
                if web is not None:
                    code = web or 1
                    self.stderr.write(f"the web server exited with status {web}; stopping the others")
                    break
                for child in children.values():
                    if said := child.tend():
                        self.stderr.write(said)
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for child in children.values():
            child.terminate()
        for child in children.values():
            child.wait()
        return code


class _Child:
    """A supervised process: started again, after a backoff, whenever it exits."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.quick_exits = 0
        self.restart_at: float | None = None
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.started = time.monotonic()
        self.restart_at = None

    def tend(self) -> str:
        """Notice an exit and schedule the restart, or restart when its time comes; what to log."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now < self.restart_at:
                return ""
            self._start()
            return f"{self.name} started again (pid {self.process.pid})"
        status = self.process.poll()
        if status is None:
            return ""
        self.quick_exits = self.quick_exits + 1 if now - self.started < STEADY_S else 1
        pause = min(BACKOFF_FIRST_S * 2 ** (self.quick_exits - 1), BACKOFF_MOST_S)
        self.restart_at = now + pause
        return f"{self.name} exited with status {status}; starting it again in {pause:g} s"

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def wait(self) -> None:
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
