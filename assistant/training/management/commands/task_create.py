from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.training.services import task_create


class Command(BaseCommand):
    help = "Create a classification task from a CSV or JSONL file of labelled examples."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the task's name: letters, digits, hyphens, underscores")
        parser.add_argument(
            "--data", type=Path, required=True, help="a CSV (with a header row) or JSONL file"
        )
        parser.add_argument("--text-column", default="text")
        parser.add_argument("--label-column", default="label")
        parser.add_argument("--description", default="")

    def handle(
        self,
        *args: Any,
        name: str,
        data: Path,
        text_column: str,
        label_column: str,
        description: str,
        **options: Any,
    ) -> None:
        if not data.is_file():
            raise CommandError(f"{data}: no such file")
        try:
            dataset = task_create(
                name=name,
                file_name=data.name,
                content=data.read_bytes(),
                text_column=text_column,
                label_column=label_column,
                description=description,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        counts = ", ".join(f"{label} {count}" for label, count in dataset.label_counts.items())
        self.stdout.write(
            f"task {name}: {dataset.rows} examples, {len(dataset.label_counts)} labels ({counts}); "
            f"dataset {dataset.hash[:12]}\ntrain it: manage.py train {name} --method knn"
        )
