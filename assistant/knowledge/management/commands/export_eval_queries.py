import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.datasets import eval_queries


def split_of(key: str) -> str:
    """A fixed half of the questions tunes the search; the other half reports on it."""
    return "validation" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "test"


class Command(BaseCommand):
    help = "Write a dataset's questions (ask_cfpb, financebench) as evaluate_retrieval queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=("ask_cfpb", "financebench"))
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--split", choices=("all", "validation", "test"), default="all")

    def handle(self, *args: Any, name: str, out: Path, split: str, **options: Any) -> None:
        try:
            rows = [row for key, row in eval_queries(name) if split in ("all", split_of(key))]
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        out.write_text("".join(json.dumps(row) + "\n" for row in rows))
        self.stdout.write(f"{len(rows)} {name} queries ({split}) written to {out}")
