from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.demo import demo_data_load
from assistant.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Load every app's demo data (idempotent; needs the demo users)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", nargs="+", metavar="NAME", help="only these (knowledge, advisory, …)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summaries = demo_data_load(options["only"])
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        for name, summary in summaries.items():
            self.stdout.write(f"demo data {name}: {summary}")
