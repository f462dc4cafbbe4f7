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
            "--bind", bind, "--workers", str(web_workers), "--threads", "4",
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
            raise CommandError(f"a process exited with status {code}")

    def _supervise(self, commands: dict[str, list[str]], env: dict[str, str]) -> int:
        children = {name: subprocess.Popen(command, env=env) for name, command in commands.items()}

        def interrupt(*_: object) -> None:
            raise KeyboardInterrupt

        # Both, explicitly: a shell starting serve in the background leaves SIGINT ignored.
        signal.signal(signal.SIGTERM, interrupt)
        signal.signal(signal.SIGINT, interrupt)
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        # Whatever ended on its own, before we stop the rest, is the reason to stop.
        ended = {name: child.returncode for name, child in children.items() if child.returncode is not None}
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        for name, code in ended.items():
            self.stderr.write(f"{name} exited with status {code}; the others were stopped")
        return next((code or 1 for code in ended.values()), 0)
