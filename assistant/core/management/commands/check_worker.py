import time
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.tasks import system_probe


class Command(BaseCommand):
    help = "Send a probe task to each queue and report which worker answered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", choices=settings.CELERY_QUEUES)
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per queue")

    def handle(self, *args: Any, queue: list[str] | None, timeout: float, **options: Any) -> None:
        silent = []
        for name in queue or settings.CELERY_QUEUES:
            started = time.perf_counter()
            result = system_probe.apply_async(queue=name, expires=timeout)
            try:
                answer = result.get(timeout=timeout)
            except CeleryTimeout:
                result.revoke()
                silent.append(name)
                self.stdout.write(self.style.ERROR(f"{name:<10} no worker answered in {timeout:g} s"))
                continue
            ms = (time.perf_counter() - started) * 1000
            checks = ", ".join(
                f"{c}: {'ok' if v['ok'] else v['detail']}" for c, v in answer["checks"].items()
            )
            self.stdout.write(
                f"{name:<10} {answer['hostname']} pid {answer['pid']} in {ms:.0f} ms ({checks})"
            )
        if silent:
            raise CommandError(f"no worker consumes: {', '.join(silent)}")
