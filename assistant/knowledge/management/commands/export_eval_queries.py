import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.datasets import eval_split


class Command(BaseCommand):
    help = (
        "Write a dataset's questions (ask_cfpb, financebench) as evaluate_retrieval queries; "
        "the validation half tunes the search, the test half reports on it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=("ask_cfpb", "financebench"))
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--split", choices=("all", "validation", "test"), default="all")

    def handle(self, *args: Any, name: str, out: Path, split: str, **options: Any) -> None:
        try:
            rows = eval_split(name, split)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        out.write_text("".join(json.dumps(row) + "\n" for row in rows))
        self.stdout.write(f"{len(rows)} {name} queries ({split}) written to {out}")
