from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.management.cli import progress_bars
from assistant.knowledge.models import Collection
from assistant.knowledge.services.reembedding import collection_reembed


class Command(BaseCommand):
    help = (
        "Move a collection to another embedding model. Searches keep using the old vectors "
        "until all new ones are ready, then switch in one transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", required=True)
        parser.add_argument(
            "--model",
            required=True,
            help="all-MiniLM-L6-v2, multilingual-e5-small or a local model directory",
        )
        parser.add_argument(
            "--second",
            action="store_true",
            help="the collection's second model, for questions in a language the first does not read "
            '(--model "" removes it)',
        )

    def handle(self, *args: Any, collection: str, model: str, second: bool, **options: Any) -> None:
        try:
            target = Collection.objects.get(name=collection)
        except Collection.DoesNotExist:
            raise CommandError(f"no collection named {collection!r}") from None
        with progress_bars(self) as progress:
            try:
                report = collection_reembed(
                    collection=target, model_name=model, second=second, on_progress=progress
                )
            except ApplicationError as exc:
                raise CommandError(str(exc)) from exc
        slot = "second model" if second else "model"
        moved = (
            f"{slot} of {report.chunks} chunk(s) moved from {report.previous_model or 'none'} to "
            f"{report.model or 'none'}"
        )
        self.stdout.write(f"{report.collection}: {moved}")
